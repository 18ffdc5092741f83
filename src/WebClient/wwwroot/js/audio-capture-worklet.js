// AudioWorkletProcessor: mono PCM16 little-endian frames of `frameMs` milliseconds, posted to the main thread.
/* global sampleRate, currentTime, registerProcessor, AudioWorkletProcessor */

class PcmCaptureProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const frameMs = options?.processorOptions?.frameMs ?? 20;
    this.frameSamples = Math.round((sampleRate * frameMs) / 1000); // 48000 Hz -> 960
    this.buffer = new Float32Array(this.frameSamples);
    this.filled = 0;
    this.frameStartTime = currentTime;
    this.running = true;
    this.port.onmessage = (e) => {
      if (e.data === 'stop') this.running = false;
    };
  }

  process(inputs) {
    if (!this.running) return false;
    const input = inputs[0];
    if (!input || input.length === 0) return true; // no source connected (yet)
    const ch0 = input[0];
    const ch1 = input.length > 1 ? input[1] : null;
    const n = ch0.length;
    for (let i = 0; i < n; i++) {
      if (this.filled === 0) this.frameStartTime = currentTime + i / sampleRate;
      this.buffer[this.filled++] = ch1 ? (ch0[i] + ch1[i]) * 0.5 : ch0[i];
      if (this.filled === this.frameSamples) this.flush();
    }
    return true;
  }

  flush() {
    const pcm = new ArrayBuffer(this.frameSamples * 2);
    const view = new DataView(pcm);
    const src = this.buffer;
    for (let i = 0; i < this.frameSamples; i++) {
      let s = src[i];
      s = s < -1 ? -1 : s > 1 ? 1 : s;
      view.setInt16(i * 2, s < 0 ? Math.round(s * 0x8000) : Math.round(s * 0x7fff), true);
    }
    this.port.postMessage({ pcm, sampleRate, startTime: this.frameStartTime, samples: this.frameSamples }, [pcm]);
    this.filled = 0;
  }
}

registerProcessor('pgvc-pcm-capture', PcmCaptureProcessor);
