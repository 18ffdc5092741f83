// Unit tests of the replay's timing: clock mapping, where audio plays, which video frame is drawn when (run by `node --test`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AudioPlacer, BUFFER_AHEAD_MS, PREROLL_MS, ReplayClock, SkewMeter, UNDERRUN_MARGIN_MS, VideoQueue,
  formatClock, isEnded, isUnderrun, pcmDurationMs, readyToStart, recoveredFromUnderrun, wantsMoreMedia,
} from '../wwwroot/js/replay-timeline.js';

test('the clock maps timeline ms to context seconds from its anchor, both ways', () => {
  const clock = new ReplayClock();
  assert.equal(clock.anchored, false);
  clock.anchor(12.5, 4000); // a seek to 4 s, anchored at context time 12.5 s
  assert.equal(clock.anchored, true);
  assert.equal(clock.toCtx(4000), 12.5);
  assert.equal(clock.toCtx(5500), 14);
  assert.equal(clock.toTimeline(13), 4500);
  assert.ok(Math.abs(clock.toTimeline(clock.toCtx(7777)) - 7777) < 1e-6);
  clock.reset();
  assert.equal(clock.anchored, false);
});

test('audio frames play at their stamps, back to back through jitter', () => {
  const p = new AudioPlacer();
  // 20 ms frames stamped by the relay's receive clock: a little early or late each.
  const stamps = [0, 21, 39, 62, 80, 99];
  const placed = stamps.map((t) => p.place(t, 20, -1000));
  assert.deepEqual(placed.map((x) => x.atMs), [0, 20, 40, 60, 80, 100]);
  assert.ok(placed.every((x) => x.offsetMs === 0));
});

test('a pause in a sender\'s audio is kept; a burst after a stall is dropped until it catches up', () => {
  const p = new AudioPlacer({ joinMs: 30, maxLagMs: 80 });
  assert.equal(p.place(0, 20, -1000).atMs, 0);
  assert.equal(p.place(500, 20, -1000).atMs, 500); // muted for a while: plays at its own time
  // A stall: 10 frames captured over 200 ms arrive together at 700.
  const burst = Array.from({ length: 10 }, () => p.place(700, 20, -1000));
  const played = burst.filter(Boolean);
  assert.deepEqual(played.map((x) => x.atMs), [700, 720, 740, 760, 780]);
  assert.ok(burst.length - played.length === 5);
  // The next frame on time joins the audio already scheduled: the lag is bounded, not carried on for good.
  assert.equal(p.place(800, 20, -1000).atMs, 800);
  p.reset();
  assert.equal(p.place(50, 20, -1000).atMs, 50);
});

test('audio whose place is already past plays what is left of it, or is dropped', () => {
  const p = new AudioPlacer({ marginMs: 10 });
  assert.deepEqual(p.place(100, 20, 95), { atMs: 105, offsetMs: 5 });
  assert.equal(p.nextFreeMs, 120);
  assert.equal(p.place(120, 20, 200), null); // wholly in the past
  const q = new AudioPlacer({ marginMs: 10 });
  assert.deepEqual(q.place(100, 20, 50), { atMs: 100, offsetMs: 0 });
});

test('PCM duration follows bytes, channels and rate', () => {
  assert.equal(pcmDurationMs(1920, 1, 48000), 20);
  assert.equal(pcmDurationMs(3840, 2, 48000), 20);
  assert.equal(pcmDurationMs(1764, 1, 44100), 20);
  assert.equal(pcmDurationMs(100, 1, 0), 0);
});

const frames = (...ts) => ts.map((tMs) => ({ tMs }));

test('video: nothing is drawn before its time, then the newest decoded due frame', () => {
  const q = new VideoQueue();
  for (const f of frames(0, 66, 133, 200)) q.push(f);
  let { decode } = q.toDecode(-100, 150, 3);
  assert.deepEqual(decode.map((f) => f.tMs), [0]);
  decode.forEach((f) => { f.state = 'decoding'; });
  ({ decode } = q.toDecode(0, 150, 3));
  assert.deepEqual(decode.map((f) => f.tMs), [66, 133]); // due within the lead, up to 3 in flight
  decode.forEach((f) => { f.state = 'ready'; });
  assert.equal(q.take(-1).frame, null);                  // not yet: the clock decides
  assert.equal(q.take(10).frame, null);                  // frame 0 still decoding, 66 not due
  q.frames[0].state = 'ready';
  const first = q.take(10);
  assert.equal(first.frame.tMs, 0);
  assert.deepEqual(first.dropped, []);
  const late = q.take(140);                              // a slow tick: 66 is overtaken by 133
  assert.equal(late.frame.tMs, 133);
  assert.deepEqual(late.dropped.map((f) => f.tMs), [66]);
  assert.deepEqual(q.frames.map((f) => f.tMs), [200]);
});

test('video: undecoded frames overtaken by a newer due frame are skipped, not decoded', () => {
  const q = new VideoQueue();
  for (const f of frames(0, 33, 66, 100, 400)) q.push(f);
  const { decode, skipped } = q.toDecode(100, 150, 3);
  assert.deepEqual(skipped.map((f) => f.tMs), [0, 33, 66]);
  assert.deepEqual(decode.map((f) => f.tMs), [100]);
  assert.deepEqual(q.frames.map((f) => f.tMs), [100, 400]);
});

test('video: a frame that failed to decode leaves once due; clear() hands back everything', () => {
  const q = new VideoQueue();
  for (const f of frames(0, 50)) q.push(f);
  q.frames[0].state = 'failed';
  const r = q.take(10);
  assert.equal(r.frame, null);
  assert.deepEqual(r.dropped.map((f) => f.tMs), [0]);
  assert.equal(q.length, 1);
  assert.deepEqual(q.clear().map((f) => f.tMs), [50]);
  assert.equal(q.length, 0);
});

test('a frame drawn at each tick once due has a skew of at most a tick (video follows the audio clock)', () => {
  // 15 fps video, ticks at 60 Hz: each frame is drawn at the first tick at or after its time.
  const q = new VideoQueue();
  for (let i = 0; i < 30; i++) q.push({ tMs: i * (1000 / 15), state: 'ready' });
  const skew = new SkewMeter();
  for (let tick = 0; tick * (1000 / 60) < 2000; tick++) {
    const clockMs = tick * (1000 / 60) + 3.1;
    const { frame } = q.take(clockMs);
    if (frame) skew.record(frame.tMs, clockMs);
  }
  assert.equal(skew.samples, 30);
  assert.ok(skew.lastMs <= 0);
  assert.ok(skew.maxAbsMs <= 1000 / 60, `max |skew| ${skew.maxAbsMs}`);
});

test('the skew meter keeps the last value and the largest magnitude', () => {
  const m = new SkewMeter();
  assert.equal(m.lastMs, null);
  m.record(100, 105);
  m.record(200, 190);
  m.record(300, 301);
  assert.equal(m.lastMs, -1);
  assert.equal(m.maxAbsMs, 10);
  assert.equal(m.samples, 3);
});

test('reading: 2 s ahead while playing, the preroll while paused; start after the preroll or at the end', () => {
  assert.equal(wantsMoreMedia({ bufferedAheadMs: BUFFER_AHEAD_MS - 1, playing: true }), true);
  assert.equal(wantsMoreMedia({ bufferedAheadMs: BUFFER_AHEAD_MS, playing: true }), false);
  assert.equal(wantsMoreMedia({ bufferedAheadMs: PREROLL_MS - 1, playing: false }), true);
  assert.equal(wantsMoreMedia({ bufferedAheadMs: PREROLL_MS, playing: false }), false);
  assert.equal(readyToStart({ bufferedAheadMs: PREROLL_MS - 1, streamDone: false }), false);
  assert.equal(readyToStart({ bufferedAheadMs: PREROLL_MS, streamDone: false }), true);
  assert.equal(readyToStart({ bufferedAheadMs: 0, streamDone: true }), true);
});

test('underrun only while a read is waiting: a gap in the recording is not a slow network', () => {
  // The clock stops just before it reaches the newest frame, not after it has run past it.
  const base = { clockMs: 1000 - UNDERRUN_MARGIN_MS, lastReceivedMs: 1000, streamDone: false };
  assert.equal(isUnderrun({ ...base, reading: true }), true);
  assert.equal(isUnderrun({ ...base, reading: false }), false);
  assert.equal(isUnderrun({ ...base, reading: true, streamDone: true }), false);
  assert.equal(isUnderrun({ ...base, reading: true, clockMs: 1000 - UNDERRUN_MARGIN_MS - 1 }), false);
  assert.equal(recoveredFromUnderrun({ stalledAtMs: 950, lastReceivedMs: 950 + PREROLL_MS - 1, streamDone: false }), false);
  assert.equal(recoveredFromUnderrun({ stalledAtMs: 950, lastReceivedMs: 950 + PREROLL_MS, streamDone: false }), true);
  assert.equal(recoveredFromUnderrun({ stalledAtMs: 950, lastReceivedMs: 960, streamDone: true }), true);
});

test('the end: at the length; an active recording only once its stream has caught up', () => {
  assert.equal(isEnded({ clockMs: 9999, durationMs: 10000, active: false, streamDone: true }), false);
  assert.equal(isEnded({ clockMs: 10000, durationMs: 10000, active: false, streamDone: false }), true);
  assert.equal(isEnded({ clockMs: 10000, durationMs: 10000, active: true, streamDone: false }), false);
  assert.equal(isEnded({ clockMs: 10000, durationMs: 10000, active: true, streamDone: true }), true);
});

test('clock display is m:ss', () => {
  assert.equal(formatClock(0), '0:00');
  assert.equal(formatClock(999), '0:00');
  assert.equal(formatClock(10250), '0:10');
  assert.equal(formatClock(61000), '1:01');
  assert.equal(formatClock(3600000), '60:00');
  assert.equal(formatClock(-5), '0:00');
  assert.equal(formatClock(NaN), '0:00');
});
