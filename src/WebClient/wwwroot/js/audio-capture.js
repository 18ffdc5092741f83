// Microphone -> AudioWorklet -> 20 ms PCM16 LE mono frames -> media frames.
import { Limits, RateWindow, encodeAudioFrame, nowMicros } from './protocol.js';

export const AUDIO_CONSTRAINTS = Object.freeze({
  echoCancellation: false,
  noiseSuppression: false,
  autoGainControl: false,
  channelCount: { ideal: 1 },
});

const loadedContexts = new WeakSet();

export async function ensureWorklets(ctx) {
  if (loadedContexts.has(ctx)) return;
  await Promise.all([
    ctx.audioWorklet.addModule(new URL('./audio-capture-worklet.js', import.meta.url)),
    ctx.audioWorklet.addModule(new URL('./audio-playback-worklet.js', import.meta.url)),
  ]);
  loadedContexts.add(ctx);
}

export class AudioCapture {
  /**
   * @param {AudioContext} ctx
   * @param {(buffer: ArrayBuffer) => boolean} send
   * @param {() => number|null} activeCallId
   */
  constructor(ctx, send, activeCallId, options = {}) {
    this.ctx = ctx;
    this.send = send;
    this.activeCallId = activeCallId;
    this.frameMs = options.frameMs ?? 20;
    this.enabled = true; // mic toggle
    this.track = null;
    this.source = null;
    this.node = null;
    this.sequence = (Math.random() * 0xffffffff) >>> 0;
    this.framesSent = 0;
    this.framesSkipped = 0;
    // After a main-thread stall the worklet's queued frames arrive at once: drop what would break the limit.
    this.rate = new RateWindow((options.maxFps ?? Limits.maxAudioFps) - 2, 1000);
  }

  async start(track) {
    this.stop();
    if (!track) return;
    this.track = track;
    track.enabled = this.enabled;
    await ensureWorklets(this.ctx);
    this.source = this.ctx.createMediaStreamSource(new MediaStream([track]));
    this.node = new AudioWorkletNode(this.ctx, 'pgvc-pcm-capture', {
      numberOfInputs: 1,
      numberOfOutputs: 1,
      outputChannelCount: [1],
      channelCount: 1,
      channelCountMode: 'explicit',
      channelInterpretation: 'speakers',
      processorOptions: { frameMs: this.frameMs },
    });
    this.node.port.onmessage = (e) => this._onFrame(e.data);
    this.source.connect(this.node);
    // The node writes no output (silence); connecting it keeps the graph pulling it.
    this.node.connect(this.ctx.destination);
  }

  setEnabled(on) {
    this.enabled = !!on;
    if (this.track) this.track.enabled = this.enabled;
  }

  _onFrame({ pcm, sampleRate }) {
    const callId = this.activeCallId();
    if (callId == null || !this.enabled || !this.track || this.track.readyState !== 'live') return;
    // The frame's last sample was captured just before the worklet posted it: stamp the first one.
    const captureTime = nowMicros() - Math.round((pcm.byteLength / 2 / sampleRate) * 1e6);
    if (!this.rate.tryTake()) { this.framesSkipped++; return; }
    const frame = encodeAudioFrame({ sequence: this.sequence, callId, captureTime, channels: 1, sampleRate }, pcm);
    if (this.send(frame)) {
      this.sequence = (this.sequence + 1) >>> 0;
      this.framesSent++;
    }
  }

  stop() {
    if (this.node) {
      try { this.node.port.postMessage('stop'); } catch { /* ignore */ }
      this.node.port.onmessage = null;
      try { this.node.disconnect(); } catch { /* ignore */ }
    }
    if (this.source) { try { this.source.disconnect(); } catch { /* ignore */ } }
    this.node = null;
    this.source = null;
    this.track = null;
  }
}
