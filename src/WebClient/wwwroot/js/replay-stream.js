// The replay stream of GET /api/recordings/{id}/media: records of a 4-byte big-endian length followed by a media
// frame exactly as on the WebSocket (docs/protocol.md section 4), except that the capture time is the frame's place on
// the recording's timeline in microseconds. No DOM and no fetch of its own, so the node tests run all of it.
import { Limits, MEDIA_HEADER_LENGTH, decodeMediaFrame } from './protocol.js';

export const REPLAY_MEDIA_TYPE = 'application/vnd.pgvideochat.replay';
const LENGTH_BYTES = 4;

/** The stream is not what the relay writes: stop, rather than play garbage as frames. */
export class ReplayStreamError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ReplayStreamError';
  }
}

/**
 * Cuts the stream's chunks into frames. A network chunk ends anywhere (inside a length prefix, a header or a payload),
 * so the bytes of an unfinished record wait for the next chunk; nothing is buffered beyond that one record.
 */
export class ReplayRecordParser {
  #chunks = [];      // chunks not consumed yet, the first one from #offset on
  #offset = 0;
  #buffered = 0;     // bytes in #chunks from #offset on
  #need = null;      // the length of the record being assembled, once its prefix has been read

  /** @param {number} maxRecordBytes a longer record is no frame the relay could have taken in */
  constructor(maxRecordBytes = Limits.maxBinaryMessageBytes) {
    this.maxRecordBytes = maxRecordBytes;
  }

  get bufferedBytes() { return this.#buffered; }

  /** At the end of the stream: true when it ended between two records (false: cut off inside one). */
  get complete() { return this.#need === null && this.#buffered === 0; }

  /**
   * The frames this chunk completes, decoded by protocol.js, each with its own ArrayBuffer (the chunk's memory is
   * not kept alive by a frame that waits to be played).
   * @param {Uint8Array|ArrayBuffer} chunk
   */
  push(chunk) {
    const bytes = chunk instanceof Uint8Array ? chunk : new Uint8Array(chunk);
    if (bytes.byteLength) {
      this.#chunks.push(bytes);
      this.#buffered += bytes.byteLength;
    }
    const frames = [];
    for (;;) {
      if (this.#need === null) {
        if (this.#buffered < LENGTH_BYTES) break;
        const p = this.#take(LENGTH_BYTES);
        const length = p[0] * 0x1000000 + ((p[1] << 16) | (p[2] << 8) | p[3]);
        if (length < MEDIA_HEADER_LENGTH || length > this.maxRecordBytes) {
          throw new ReplayStreamError(`a replay record of ${length} bytes (expected ${MEDIA_HEADER_LENGTH}-${this.maxRecordBytes})`);
        }
        this.#need = length;
      }
      if (this.#buffered < this.#need) break;
      const record = this.#take(this.#need);
      this.#need = null;
      const frame = decodeMediaFrame(record.buffer);
      if (!frame) throw new ReplayStreamError('a replay record that is not a version-1 media frame');
      frames.push(frame);
    }
    return frames;
  }

  /** Copies the next n bytes out of the chunks (n ≤ #buffered) and drops the chunks used up. */
  #take(n) {
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const c = this.#chunks[0];
      const k = Math.min(c.byteLength - this.#offset, n - filled);
      out.set(c.subarray(this.#offset, this.#offset + k), filled);
      filled += k;
      this.#offset += k;
      if (this.#offset === c.byteLength) { this.#chunks.shift(); this.#offset = 0; }
    }
    this.#buffered -= n;
    return out;
  }
}

/** A frame's place on the recording's timeline, in ms (the header's capture-time field holds it in µs). */
export const timelineMs = (frame) => frame.captureTime / 1000;

/**
 * Reads `reader` (a fetch body's) to its end, handing every frame to `onFrame`. Before each read it awaits
 * `waitForRoom()`: that is the player's backpressure, and because nothing is read meanwhile the browser's and the
 * network's flow control hold the relay back too. `isCurrent()` turning false (a seek started another stream) stops it.
 * `onReading(true|false)` brackets each read, so the player can tell a slow network from a well-fed buffer.
 * Resolves with {stopped} (isCurrent turned false) or {complete} (the stream ended; false: inside a record).
 */
export async function pumpReplay(reader, {
  onFrame, waitForRoom = async () => {}, isCurrent = () => true, onReading = () => {}, parser = new ReplayRecordParser(),
}) {
  for (;;) {
    await waitForRoom();
    if (!isCurrent()) return { stopped: true, complete: false };
    onReading(true);
    let result;
    try {
      result = await reader.read();
    } finally {
      onReading(false);
    }
    if (!isCurrent()) return { stopped: true, complete: false };
    if (result.done) return { stopped: false, complete: parser.complete };
    for (const frame of parser.push(result.value)) {
      onFrame(frame);
      if (!isCurrent()) return { stopped: true, complete: false };
    }
  }
}

/** PCM signed 16-bit little-endian, interleaved → one Float32Array per channel (what an AudioBuffer takes). */
export function decodePcm16(payload, channels = 1) {
  const ch = Math.max(1, channels | 0);
  const frames = Math.floor(payload.byteLength / (2 * ch));
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const out = Array.from({ length: ch }, () => new Float32Array(frames));
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < ch; c++) out[c][i] = view.getInt16((i * ch + c) * 2, true) / 32768;
  }
  return out;
}
