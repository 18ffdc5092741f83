// Unit tests of the replay stream's framing: length-prefixed media frames cut anywhere by the network (run by `node --test`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MediaKind, encodeMediaFrame } from '../wwwroot/js/protocol.js';
import {
  ReplayRecordParser, ReplayStreamError, decodePcm16, pumpReplay, timelineMs,
} from '../wwwroot/js/replay-stream.js';

/** One record as the relay writes it: 4-byte big-endian length, then the frame. */
function record(h, payload) {
  const frame = new Uint8Array(encodeMediaFrame({ sequence: 0, callId: 5, ...h }, payload));
  const out = new Uint8Array(4 + frame.byteLength);
  new DataView(out.buffer).setUint32(0, frame.byteLength);
  out.set(frame, 4);
  return out;
}

const video = (tUs, senderId, bytes) => record({ kind: MediaKind.VIDEO, captureTime: tUs, a: 320, b: 240, senderId }, Uint8Array.from([0xff, 0xd8, ...bytes]));
const audio = (tUs, senderId, samples) => {
  const pcm = new Uint8Array(samples.length * 2);
  const v = new DataView(pcm.buffer);
  samples.forEach((s, i) => v.setInt16(i * 2, s, true));
  return record({ kind: MediaKind.AUDIO, captureTime: tUs, a: 1, c: 48000, senderId }, pcm);
};

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.byteLength; }
  return out;
}

function chunksOf(bytes, size) {
  const out = [];
  for (let i = 0; i < bytes.byteLength; i += size) out.push(bytes.slice(i, i + size));
  return out;
}

const stream = () => concat(video(0, 17, [1, 2, 3]), audio(20_000, 18, [100, -100, 32767, -32768]), video(66_667, 18, [9]));

test('whole records in one chunk come out as frames with their sender and timeline position', () => {
  const parser = new ReplayRecordParser();
  const frames = parser.push(stream());
  assert.deepEqual(frames.map((f) => [f.kind, f.senderId, timelineMs(f)]), [
    [MediaKind.VIDEO, 17, 0], [MediaKind.AUDIO, 18, 20], [MediaKind.VIDEO, 18, 66.667],
  ]);
  assert.deepEqual([...frames[0].payload], [0xff, 0xd8, 1, 2, 3]);
  assert.equal(frames[1].c, 48000);
  assert.equal(parser.complete, true);
  assert.equal(parser.bufferedBytes, 0);
});

test('records split at every possible byte boundary, even inside the length prefix, parse the same', () => {
  const bytes = stream();
  const expected = new ReplayRecordParser().push(bytes).map((f) => [f.kind, f.senderId, f.captureTime, [...f.payload]]);
  for (const size of [1, 2, 3, 5, 7, 41, 44, 45, 64]) {
    const parser = new ReplayRecordParser();
    const got = chunksOf(bytes, size).flatMap((c) => parser.push(c));
    assert.deepEqual(got.map((f) => [f.kind, f.senderId, f.captureTime, [...f.payload]]), expected, `chunks of ${size}`);
    assert.equal(parser.complete, true);
  }
  for (let cut = 0; cut <= bytes.byteLength; cut++) {
    const parser = new ReplayRecordParser();
    const got = [...parser.push(bytes.subarray(0, cut)), ...parser.push(bytes.subarray(cut))];
    assert.equal(got.length, 3, `cut at ${cut}`);
  }
});

test('a frame owns its buffer: the chunk it came in may be reused', () => {
  const parser = new ReplayRecordParser();
  const chunk = video(1000, 17, [7, 7, 7]);
  const [frame] = parser.push(chunk);
  chunk.fill(0);
  assert.deepEqual([...frame.payload], [0xff, 0xd8, 7, 7, 7]);
  assert.equal(frame.payload.buffer.byteLength, 40 + 5);
});

test('a stream cut inside a record is incomplete; an empty chunk changes nothing', () => {
  const parser = new ReplayRecordParser();
  const bytes = stream();
  assert.equal(parser.push(bytes.subarray(0, bytes.byteLength - 1)).length, 2);
  assert.equal(parser.push(new Uint8Array(0)).length, 0);
  assert.equal(parser.complete, false);
  assert.equal(parser.push(bytes.subarray(bytes.byteLength - 1)).length, 1);
  assert.equal(parser.complete, true);
});

test('a length no frame can have, or a record that is not a frame, is a stream error', () => {
  const tooShort = Uint8Array.from([0, 0, 0, 39, ...new Uint8Array(39)]);
  assert.throws(() => new ReplayRecordParser().push(tooShort), ReplayStreamError);
  const tooLong = Uint8Array.from([0xff, 0xff, 0xff, 0xff]);
  assert.throws(() => new ReplayRecordParser().push(tooLong), ReplayStreamError);
  const bad = video(0, 17, [1]);
  bad[4] = 9; // version
  assert.throws(() => new ReplayRecordParser().push(bad), ReplayStreamError);
});

/** A reader over chunks, counting reads, like response.body.getReader(). */
function fakeReader(chunks) {
  const queue = [...chunks];
  return {
    reads: 0,
    async read() {
      this.reads++;
      return queue.length ? { done: false, value: queue.shift() } : { done: true, value: undefined };
    },
  };
}

test('pumpReplay reads to the end, waiting for room before every read', async () => {
  const reader = fakeReader(chunksOf(stream(), 10));
  const frames = [];
  let waits = 0;
  const reading = [];
  const result = await pumpReplay(reader, {
    onFrame: (f) => frames.push(timelineMs(f)),
    waitForRoom: async () => { waits++; },
    onReading: (r) => reading.push(r),
  });
  assert.deepEqual(result, { stopped: false, complete: true });
  assert.deepEqual(frames, [0, 20, 66.667]);
  assert.equal(waits, reader.reads);
  assert.equal(reading.length, 2 * reader.reads);
  assert.deepEqual(reading.slice(0, 2), [true, false]);
});

test('pumpReplay does not read while the player has no room (backpressure), and stops when superseded', async () => {
  const reader = fakeReader([video(0, 17, [1]), video(2_500_000, 17, [2]), video(5_000_000, 17, [3])]);
  let room = false;
  let release;
  const frames = [];
  let current = true;
  const done = pumpReplay(reader, {
    onFrame: (f) => { frames.push(timelineMs(f)); room = false; },
    waitForRoom: () => (room ? Promise.resolve() : new Promise((r) => { release = r; })),
    isCurrent: () => current,
  });
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(reader.reads, 0);
  room = true; release();
  await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(frames, [0]);
  assert.equal(reader.reads, 1);
  current = false; // a seek: this stream is no longer wanted
  room = true; release();
  assert.deepEqual(await done, { stopped: true, complete: false });
  assert.equal(reader.reads, 1);
});

test('pumpReplay works on a real ReadableStream reader', async () => {
  const chunks = chunksOf(stream(), 13);
  const body = new ReadableStream({ pull(c) { if (chunks.length) c.enqueue(chunks.shift()); else c.close(); } });
  const frames = [];
  const result = await pumpReplay(body.getReader(), { onFrame: (f) => frames.push(f.senderId) });
  assert.equal(result.complete, true);
  assert.deepEqual(frames, [17, 18, 18]);
});

test('PCM16 little-endian decodes to floats per channel, de-interleaved', () => {
  const [mono] = decodePcm16(Uint8Array.from([0x00, 0x40, 0x00, 0xc0, 0xff, 0x7f]), 1);
  assert.deepEqual([...mono], [0.5, -0.5, 32767 / 32768]);
  const stereo = decodePcm16(Uint8Array.from([0x00, 0x40, 0x00, 0xc0, 0x00, 0x20, 0x00, 0xe0]), 2);
  assert.deepEqual(stereo.map((c) => [...c]), [[0.5, 0.25], [-0.5, -0.25]]);
  // A view into a larger buffer at an odd offset reads from its own start.
  const big = new Uint8Array(9);
  big.set([0x00, 0x40], 3);
  assert.deepEqual([...decodePcm16(big.subarray(3, 5), 1)[0]], [0.5]);
});
