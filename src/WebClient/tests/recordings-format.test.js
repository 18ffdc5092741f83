// Unit tests of how recordings are worded: lengths, sizes, names, and when a call counts as recorded (run by `node --test`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatBytes, formatLength, formatParticipants, personLabel,
} from '../wwwroot/js/recordings-format.js';
import { recordingOf } from '../wwwroot/js/call-state.js';

const recording = { recordingId: 12, startedBy: 17, startedByName: 'Alice', startedAt: '2026-12-04T15:00:00Z' };

test('a call is recorded while it has a recording and is not over', () => {
  assert.equal(recordingOf({ state: 'active', recording }), recording);
  assert.equal(recordingOf({ state: 'active', recording: null }), null);
  assert.equal(recordingOf({ state: 'active' }), null);
  assert.equal(recordingOf({ state: 'ended', recording, _synthetic: true }), null);
  assert.equal(recordingOf(null), null);
});

test('lengths are m:ss, an active recording is still recording', () => {
  assert.equal(formatLength({ active: false, durationMs: 10250 }), '0:10');
  assert.equal(formatLength({ active: false, durationMs: 125_000 }), '2:05');
  assert.equal(formatLength({ active: true, durationMs: 5000 }), 'recording…');
});

test('sizes are KB below a MB, else MB', () => {
  assert.equal(formatBytes(0), '0 KB');
  assert.equal(formatBytes(200_000), '195 KB');
  assert.equal(formatBytes(4_123_456), '3.9 MB');
  assert.equal(formatBytes(500 * 1024 * 1024), '500 MB');
  assert.equal(formatBytes(undefined), '0 KB');
});

test('participants list me first as You; people are named, or you', () => {
  const people = [{ userId: 17, displayName: 'Alice' }, { userId: 18, displayName: 'Bob' }];
  assert.equal(formatParticipants(people, 18), 'You, Alice');
  assert.equal(formatParticipants(people, 99), 'Alice, Bob');
  assert.equal(formatParticipants([], 1), '');
  assert.equal(personLabel({ userId: 17, displayName: 'Alice' }, 17), 'you');
  assert.equal(personLabel({ userId: 17, displayName: 'Alice' }, 18), 'Alice');
  assert.equal(personLabel(null, 18), 'someone');
});
