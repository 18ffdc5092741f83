// The replay's timing rules, pure so that node tests pin them down: the clock mapping between the recording's timeline
// and the AudioContext (the master clock), where each audio frame is scheduled, which video frame is drawn when, how far
// ahead the stream is read, and the skew measured between what is seen and what is heard.
//
// Timeline positions are ms since the recording started, by the relay's clock when it received the frame. A sender's
// audio therefore arrives with network jitter on its stamps: played strictly at its stamps it would click and overlap,
// so a sender's frames are played back to back while their stamps stay within a small window of that (see AudioPlacer).

/** Stop reading the stream while this much media is buffered ahead of the play position. */
export const BUFFER_AHEAD_MS = 2000;
/** Start playing (and resume after an underrun) once this much is buffered, or the stream has ended. */
export const PREROLL_MS = 300;
/**
 * The clock this close to the newest frame received while a read is still waiting: the network is behind, so the clock
 * stops before it passes what has arrived (frames arriving after their time would be dropped or drawn late).
 */
export const UNDERRUN_MARGIN_MS = 50;
/** Reads of the stream are at most this large, so one read never overshoots the read-ahead by more than ~150 ms. */
export const READ_CHUNK_BYTES = 64 * 1024;
/** Decode JPEGs this long before they are due, so drawing one costs only the drawImage. */
export const DECODE_LEAD_MS = 150;
/** JPEG decodes in flight per sender at once. */
export const MAX_DECODING = 3;
/** The first frame plays this long after the clock is anchored: time to schedule the preroll's audio. */
export const START_DELAY_S = 0.08;

/** ms of audio in `bytes` of PCM16 with `channels` channels at `sampleRate`. */
export function pcmDurationMs(bytes, channels, sampleRate) {
  const ch = Math.max(1, channels | 0);
  return sampleRate > 0 ? (Math.floor(bytes / (2 * ch)) / sampleRate) * 1000 : 0;
}

/**
 * Timeline ms ↔ AudioContext seconds. Anchored once per stream start (play from a position, seek): from then on the
 * context's clock is the replay's clock, so pausing it (suspend) pauses everything, and video follows audio.
 */
export class ReplayClock {
  #ctx0 = null;
  #t0 = 0;

  get anchored() { return this.#ctx0 !== null; }

  /** Timeline position `timelineMs` plays at context time `ctxSeconds`. */
  anchor(ctxSeconds, timelineMs) {
    this.#ctx0 = ctxSeconds;
    this.#t0 = timelineMs;
  }

  reset() { this.#ctx0 = null; this.#t0 = 0; }

  toCtx(timelineMs) { return this.#ctx0 + (timelineMs - this.#t0) / 1000; }

  toTimeline(ctxSeconds) { return this.#t0 + (ctxSeconds - this.#ctx0) * 1000; }
}

/**
 * Where one sender's audio frames play. A frame whose stamp is within `joinMs` after, or `maxLagMs` before, the end of
 * the audio scheduled before it plays right after that audio (gapless: the stamp's deviation is jitter); a frame
 * stamped later is a real pause in that sender's audio and plays at its stamp; one stamped earlier than that is a burst
 * after a stall, and is dropped so that the sender's audio catches up with the clock instead of lagging for good. A
 * frame whose place is already (partly) past plays what is left of it.
 */
export class AudioPlacer {
  constructor({ joinMs = 30, maxLagMs = 80, marginMs = 10 } = {}) {
    this.joinMs = joinMs;
    this.maxLagMs = maxLagMs;
    this.marginMs = marginMs;  // scheduled at least this far ahead of the clock: a start in the past would shift it
    this.nextFreeMs = null;    // where the audio scheduled so far ends
  }

  /**
   * @param {number} tMs the frame's timeline position
   * @param {number} durationMs its length
   * @param {number} nowMs the clock's timeline position now
   * @returns {{atMs: number, offsetMs: number}|null} start at `atMs` on the timeline, skipping `offsetMs` of it; null: drop
   */
  place(tMs, durationMs, nowMs) {
    let at = tMs;
    if (this.nextFreeMs !== null) {
      const gap = tMs - this.nextFreeMs;
      if (gap < -this.maxLagMs) return null;
      if (gap <= this.joinMs) at = this.nextFreeMs;
    }
    let offset = 0;
    const earliest = nowMs + this.marginMs;
    if (at < earliest) {
      offset = earliest - at;
      if (offset >= durationMs) return null;
      at = earliest;
    }
    this.nextFreeMs = at + durationMs - offset;
    return { atMs: at, offsetMs: offset };
  }

  reset() { this.nextFreeMs = null; }
}

/**
 * One sender's video frames, in timeline order, from received to drawn. A frame is {tMs, state, …}: state `new`,
 * `decoding`, `ready` (decoded) or `failed`. The player decodes what toDecode() names and draws what take() returns.
 */
export class VideoQueue {
  constructor() { this.frames = []; }

  get length() { return this.frames.length; }

  push(frame) {
    frame.state ??= 'new';
    this.frames.push(frame);
  }

  #lastDue(clockMs) {
    let i = -1;
    while (i + 1 < this.frames.length && this.frames[i + 1].tMs <= clockMs) i++;
    return i;
  }

  /**
   * The frames to start decoding at `clockMs`: due within `leadMs`, oldest first, while fewer than `maxInFlight` are
   * decoding. Undecoded frames already overtaken by a newer due frame leave the queue (`skipped`): they would never be
   * drawn, and decoding them would only delay the one that will.
   */
  toDecode(clockMs, leadMs = DECODE_LEAD_MS, maxInFlight = MAX_DECODING) {
    const lastDue = this.#lastDue(clockMs);
    const skipped = [];
    if (lastDue > 0) {
      const keep = [];
      for (let i = 0; i < this.frames.length; i++) {
        const f = this.frames[i];
        if (i < lastDue && f.state === 'new') skipped.push(f); else keep.push(f);
      }
      this.frames = keep;
    }
    let inFlight = this.frames.reduce((n, f) => n + (f.state === 'decoding' ? 1 : 0), 0);
    const decode = [];
    for (const f of this.frames) {
      if (inFlight >= maxInFlight || f.tMs > clockMs + leadMs) break;
      if (f.state !== 'new') continue;
      decode.push(f);
      inFlight++;
    }
    return { decode, skipped };
  }

  /**
   * The frame to draw at `clockMs`: the newest due frame that is decoded. It and every frame before it leave the queue;
   * the older ones come back in `dropped` (to free their bitmaps). Frames whose decoding failed leave once due.
   */
  take(clockMs) {
    const lastDue = this.#lastDue(clockMs);
    let pick = -1;
    for (let i = 0; i <= lastDue; i++) if (this.frames[i].state === 'ready') pick = i;
    if (pick < 0) {
      const dropped = [];
      while (this.frames.length && this.frames[0].tMs <= clockMs && this.frames[0].state === 'failed') dropped.push(this.frames.shift());
      return { frame: null, dropped };
    }
    const dropped = this.frames.splice(0, pick + 1);
    const frame = dropped.pop();
    return { frame, dropped };
  }

  /** Empties the queue (a seek): every frame comes back, to free bitmaps and cancel decodes. */
  clear() {
    const all = this.frames;
    this.frames = [];
    return all;
  }
}

/** Audio/video skew: at each draw, the drawn frame's timeline ms minus the audio clock's (negative: video is late). */
export class SkewMeter {
  constructor() { this.reset(); }

  record(frameMs, clockMs) {
    const skew = frameMs - clockMs;
    this.lastMs = skew;
    this.maxAbsMs = Math.max(this.maxAbsMs, Math.abs(skew));
    this.samples++;
    return skew;
  }

  reset() {
    this.lastMs = null;
    this.maxAbsMs = 0;
    this.samples = 0;
  }
}

/** Whether to read more: far enough ahead while playing, only the preroll while paused (pause stops reading). */
export function wantsMoreMedia({ bufferedAheadMs, playing }) {
  return bufferedAheadMs < (playing ? BUFFER_AHEAD_MS : PREROLL_MS);
}

/** Enough is buffered to start the clock at the stream's first position. */
export function readyToStart({ bufferedAheadMs, streamDone }) {
  return streamDone || bufferedAheadMs >= PREROLL_MS;
}

/**
 * The clock (the one audio is scheduled by) is about to pass what has arrived while the stream is still being read:
 * stop it until the preroll is in again. Not while the reader waits for room: then a gap is in the recording itself.
 */
export function isUnderrun({ clockMs, lastReceivedMs, reading, streamDone }) {
  return !streamDone && reading && clockMs + UNDERRUN_MARGIN_MS >= lastReceivedMs;
}

/** After an underrun at `stalledAtMs`: enough has arrived to go on. */
export function recoveredFromUnderrun({ stalledAtMs, lastReceivedMs, streamDone }) {
  return streamDone || lastReceivedMs >= stalledAtMs + PREROLL_MS;
}

/**
 * The replay is over at the recording's length. An active recording grows while it is played, so it ends only once the
 * stream has ended (it ends when it has caught up with what has been recorded) and the clock has reached its last frame.
 */
export function isEnded({ clockMs, durationMs, active, streamDone }) {
  return clockMs >= durationMs && (!active || streamDone);
}

/** m:ss (minutes are not wrapped into hours: a call recording is short). */
export function formatClock(ms) {
  const total = Math.max(0, Math.floor((Number.isFinite(ms) ? ms : 0) / 1000));
  const m = Math.floor(total / 60);
  const s = total % 60;
  return `${m}:${String(s).padStart(2, '0')}`;
}
