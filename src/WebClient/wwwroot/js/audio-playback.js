// Remote audio: one playback worklet node + AnalyserNode per remote participant.
import { ensureWorklets } from './audio-capture.js';

/**
 * {rms, dominantHz} of the last `fftSize` samples an AnalyserNode saw: the live tiles and the replay measure their
 * audio the same way, so the tests hold both to the same tolerances.
 */
export function analyserLevel(a, sampleRate) {
  const time = new Float32Array(a.fftSize);
  a.getFloatTimeDomainData(time);
  let sum = 0;
  for (let i = 0; i < time.length; i++) sum += time[i] * time[i];
  const rms = Math.sqrt(sum / time.length);
  const freq = new Float32Array(a.frequencyBinCount);
  a.getFloatFrequencyData(freq);
  let best = -1, bestDb = -Infinity;
  for (let i = 1; i < freq.length - 1; i++) {
    if (freq[i] > bestDb) { bestDb = freq[i]; best = i; }
  }
  let dominantHz = 0;
  if (best > 0 && Number.isFinite(bestDb) && rms > 1e-4) {
    // Parabolic interpolation around the peak bin.
    const l = freq[best - 1], c = freq[best], r = freq[best + 1];
    const denom = l - 2 * c + r;
    const delta = Number.isFinite(denom) && denom !== 0 ? (0.5 * (l - r)) / denom : 0;
    dominantHz = ((best + Math.max(-0.5, Math.min(0.5, delta))) * sampleRate) / a.fftSize;
  }
  return { rms, dominantHz };
}

export class AudioPlayback {
  /** @param {AudioContext} ctx */
  constructor(ctx, options = {}) {
    this.ctx = ctx;
    this.targetMs = options.targetMs ?? 60;
    this.maxMs = options.maxMs ?? 200;
    this.streams = new Map(); // userId -> {node, analyser, ready, stats}
    this._ready = null;
  }

  ready() {
    if (!this._ready) this._ready = ensureWorklets(this.ctx);
    return this._ready;
  }

  _create(userId) {
    const entry = { node: null, analyser: null, stats: null, queue: [], closed: false };
    this.streams.set(userId, entry);
    this.ready().then(() => {
      if (entry.closed) return;
      const node = new AudioWorkletNode(this.ctx, 'pgvc-pcm-playback', {
        numberOfInputs: 0,
        numberOfOutputs: 1,
        outputChannelCount: [1],
        processorOptions: { targetMs: this.targetMs, maxMs: this.maxMs },
      });
      const analyser = this.ctx.createAnalyser();
      analyser.fftSize = 4096;
      analyser.smoothingTimeConstant = 0.3;
      node.connect(analyser);
      analyser.connect(this.ctx.destination);
      node.port.onmessage = (e) => { entry.stats = e.data; };
      entry.node = node;
      entry.analyser = analyser;
      for (const m of entry.queue.splice(0)) node.port.postMessage(m, [m.pcm]);
    }, (err) => console.error('audio worklet failed to load', err));
    return entry;
  }

  /** @param {number} userId @param {{payload: Uint8Array, a: number, c: number}} frame */
  push(userId, frame) {
    const entry = this.streams.get(userId) ?? this._create(userId);
    // Copy the payload into its own buffer (transferable, 2-byte aligned).
    const pcm = frame.payload.slice().buffer;
    const msg = { pcm, sampleRate: frame.c, channels: frame.a || 1 };
    if (entry.node) entry.node.port.postMessage(msg, [pcm]);
    else if (entry.queue.length < 10) entry.queue.push(msg);
  }

  has(userId) { return this.streams.has(userId); }

  remove(userId) {
    const entry = this.streams.get(userId);
    if (!entry) return;
    entry.closed = true;
    this.streams.delete(userId);
    if (entry.node) {
      try { entry.node.port.postMessage('stop'); } catch { /* ignore */ }
      entry.node.port.onmessage = null;
      try { entry.node.disconnect(); } catch { /* ignore */ }
    }
    if (entry.analyser) { try { entry.analyser.disconnect(); } catch { /* ignore */ } }
  }

  removeAllExcept(keep) {
    for (const id of [...this.streams.keys()]) if (!keep.has(id)) this.remove(id);
  }

  /** {rms, dominantHz} of what is being played for that participant, or null. */
  level(userId) {
    const a = this.streams.get(userId)?.analyser;
    if (!a) return null;
    return { ...analyserLevel(a, this.ctx.sampleRate), bufferedMs: this.streams.get(userId)?.stats?.bufferedMs ?? null };
  }

  stats(userId) { return this.streams.get(userId)?.stats ?? null; }
}
