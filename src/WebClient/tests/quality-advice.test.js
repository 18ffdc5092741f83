// Unit tests of what the relays' media.quality advice leaves of the user's video settings (run by `node --test`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ADVICE_TTL_MS, QualityAdvice, capSettings } from '../wwwroot/js/quality-advice.js';

const advice = (level, relayId = 'relay-0', reason = 'frames_dropped') => ({ type: 'media.quality', callId: 5, level, relayId, reason });

test('the step is the lowest of each relay\'s latest advice', () => {
  const a = new QualityAdvice();
  assert.equal(a.record(advice(1, 'relay-0'), 0).level, 1);
  assert.equal(a.record(advice(2, 'relay-1'), 10).level, 2);
  assert.equal(a.record(advice(0, 'relay-1', 'calm'), 20).level, 1); // relay-1 is calm again, relay-0 still says 1
  assert.equal(a.record(advice(0, 'relay-0', 'calm'), 30).level, 0);
  assert.equal(a.step(6, 30).level, 0); // another call knows nothing
});

test('a relay that stopped repeating its advice is forgotten after the TTL', () => {
  const a = new QualityAdvice();
  a.record(advice(3), 0);
  assert.equal(a.step(5, ADVICE_TTL_MS).level, 3);
  assert.equal(a.step(5, ADVICE_TTL_MS + 1).level, 0);
});

test('caps lower the user\'s settings and never raise them', () => {
  const user = { width: 640, height: 360, quality: 0.65, fps: 15 };
  assert.deepEqual(capSettings(user, { maxJpegQuality: null, maxWidth: null, maxHeight: null, maxFps: null }), user);
  assert.deepEqual(capSettings(user, { maxJpegQuality: 0.5, maxWidth: 320, maxHeight: 180, maxFps: 8 }), { width: 320, height: 180, quality: 0.5, fps: 8 });
  const small = { width: 320, height: 180, quality: 0.4, fps: 5 };
  assert.deepEqual(capSettings(small, { maxJpegQuality: 0.5, maxWidth: 320, maxHeight: 180, maxFps: 8 }), small);
  // Another aspect ratio fits the box without stretching.
  assert.deepEqual(capSettings({ width: 640, height: 480, quality: 0.65, fps: 15 }, { maxJpegQuality: 0.5, maxWidth: 320, maxHeight: 180, maxFps: null }),
    { width: 240, height: 180, quality: 0.5, fps: 15 });
});
