// Per remote participant receive statistics: fps (1 s window), latency p50 (2 s window), kbit/s, sequence gaps.
import { MediaKind, nowMicros, sequenceDelta } from './protocol.js';

const FPS_WINDOW_MS = 1000;
const LATENCY_WINDOW_MS = 2000;
const RATE_WINDOW_MS = 1000;

class KindStats {
  constructor() {
    this.frames = 0;
    this.dropped = 0;
    this.bytes = 0;
    this.lastSeq = null;
    this.lastCallId = null;
    this.arrivals = [];   // ms timestamps (performance.now) within FPS window
    this.latencies = [];  // [t, ms]
    this.sizes = [];      // [t, bytes]
    this.lastAt = null;   // Date.now() of the last frame
    this.lastWidth = null; // a video frame's size as its header gives it (a, b)
    this.lastHeight = null;
  }

  add(frame, nowPerf) {
    this.frames++;
    const bytes = frame.payload.byteLength + frame.headerLength;
    this.bytes += bytes;
    if (this.lastCallId === frame.callId && this.lastSeq !== null) {
      const d = sequenceDelta(this.lastSeq, frame.sequence);
      if (d > 1 && d < 1_000_000) this.dropped += d - 1;
      if (d > 0) this.lastSeq = frame.sequence; // ignore reordered/duplicate frames
    } else {
      this.lastSeq = frame.sequence;
      this.lastCallId = frame.callId;
    }
    this.arrivals.push(nowPerf);
    this.sizes.push([nowPerf, bytes]);
    const latencyMs = (nowMicros() - frame.captureTime) / 1000;
    if (Number.isFinite(latencyMs)) this.latencies.push([nowPerf, latencyMs]);
    this.lastAt = Date.now();
    this.lastWidth = frame.a;
    this.lastHeight = frame.b;
    this.trim(nowPerf);
  }

  trim(nowPerf) {
    while (this.arrivals.length && nowPerf - this.arrivals[0] > FPS_WINDOW_MS) this.arrivals.shift();
    while (this.sizes.length && nowPerf - this.sizes[0][0] > RATE_WINDOW_MS) this.sizes.shift();
    while (this.latencies.length && nowPerf - this.latencies[0][0] > LATENCY_WINDOW_MS) this.latencies.shift();
  }

  fps(nowPerf) { this.trim(nowPerf); return this.arrivals.length * (1000 / FPS_WINDOW_MS); }

  kbps(nowPerf) {
    this.trim(nowPerf);
    let sum = 0;
    for (const [, b] of this.sizes) sum += b;
    return (sum * 8) / RATE_WINDOW_MS; // bytes*8 per ms = kbit/s
  }

  latencyP50(nowPerf) {
    this.trim(nowPerf);
    if (!this.latencies.length) return null;
    const sorted = this.latencies.map((x) => x[1]).sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  }
}

export class StreamStats {
  constructor() {
    this.video = new KindStats();
    this.audio = new KindStats();
  }

  onFrame(frame) {
    const now = performance.now();
    if (frame.kind === MediaKind.VIDEO) this.video.add(frame, now);
    else if (frame.kind === MediaKind.AUDIO) this.audio.add(frame, now);
  }

  /** The shape the tests read: video numbers, kbps of all media from that participant. */
  snapshot() {
    const now = performance.now();
    const round = (x, d = 1) => (x === null ? null : Math.round(x * 10 ** d) / 10 ** d);
    const videoKbps = this.video.kbps(now);
    const audioKbps = this.audio.kbps(now);
    return {
      fps: this.video.fps(now),
      latencyMsP50: round(this.video.latencyP50(now)),
      kbps: round(videoKbps + audioKbps),
      framesReceived: this.video.frames,
      framesDropped: this.video.dropped,
      lastFrameAt: this.video.lastAt,
      videoWidth: this.video.lastWidth,
      videoHeight: this.video.lastHeight,
      videoKbps: round(videoKbps),
      audioKbps: round(audioKbps),
      audioFps: this.audio.fps(now),
      audioLatencyMsP50: round(this.audio.latencyP50(now)),
      audioFramesReceived: this.audio.frames,
      audioFramesDropped: this.audio.dropped,
      lastAudioFrameAt: this.audio.lastAt,
    };
  }
}

export function formatStats(s) {
  const lat = s.latencyMsP50 === null ? '–' : `${Math.round(s.latencyMsP50)} ms`;
  return `${s.fps} fps · ${lat} · ${Math.round(s.kbps)} kbit/s · lost ${s.framesDropped}`;
}
