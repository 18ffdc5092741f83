// AudioWorkletProcessor: one remote participant's jitter buffer. Input: PCM16 LE frames (any rate
// 8000-48000, 1-2 channels) via the port; output: mono at the context's rate. Target ~60 ms of
// buffered audio; silence on underrun (then re-buffer); drops the oldest audio when too far behind.
/* global sampleRate, currentFrame, registerProcessor, AudioWorkletProcessor */

class PcmPlaybackProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const o = options?.processorOptions ?? {};
    this.targetSamples = Math.round(((o.targetMs ?? 60) * sampleRate) / 1000);
    this.maxSamples = Math.round(((o.maxMs ?? 200) * sampleRate) / 1000);
    this.capacity = Math.max(this.maxSamples * 4, sampleRate); // 1 s ring
    this.ring = new Float32Array(this.capacity);
    this.readPos = 0;
    this.writePos = 0;
    this.count = 0;
    this.playing = false;
    // Resampler state (linear interpolation, phase carried across frames).
    this.srcRate = 0;
    this.phase = 0;        // position of the next output sample, in input samples relative to `prev`
    this.prev = 0;         // last input sample of the previous frame
    this.underruns = 0;
    this.dropped = 0;
    this.received = 0;
    this.lastReport = 0;
    // Drift control: when the buffer never fell below target+slack during a window, skip the excess.
    this.slackSamples = Math.round((20 * sampleRate) / 1000);
    this.maxSkipSamples = Math.round((10 * sampleRate) / 1000);
    this.windowSamples = Math.round(sampleRate / 2);
    this.windowPos = 0;
    this.windowMin = Infinity;
    this.running = true;
    this.port.onmessage = (e) => {
      const d = e.data;
      if (d === 'stop') { this.running = false; return; }
      if (d && d.pcm) this.enqueue(d.pcm, d.sampleRate, d.channels || 1);
    };
  }

  push(sample) {
    if (this.count === this.capacity) { // full: drop the oldest
      this.readPos = (this.readPos + 1) % this.capacity;
      this.count--;
      this.dropped++;
    }
    this.ring[this.writePos] = sample;
    this.writePos = (this.writePos + 1) % this.capacity;
    this.count++;
  }

  enqueue(pcm, rate, channels) {
    this.received++;
    const view = new DataView(pcm);
    const frames = Math.floor(pcm.byteLength / (2 * channels));
    if (frames === 0) return;
    const read = (i) => {
      if (channels === 1) return view.getInt16(i * 2, true) / 32768;
      let s = 0;
      for (let c = 0; c < channels; c++) s += view.getInt16((i * channels + c) * 2, true);
      return s / (32768 * channels);
    };
    if (!rate || rate === sampleRate) {
      for (let i = 0; i < frames; i++) this.push(read(i));
      this.srcRate = rate;
    } else {
      if (rate !== this.srcRate) { this.srcRate = rate; this.phase = 0; this.prev = read(0); }
      const step = rate / sampleRate; // input samples per output sample
      // Input sample index -1 is `prev`; indices 0..frames-1 are this frame.
      let pos = this.phase; // relative to prev (0 == prev)
      const get = (k) => (k === 0 ? this.prev : read(k - 1));
      while (pos < frames) {
        const k = Math.floor(pos);
        const frac = pos - k;
        const a = get(k), b = get(k + 1);
        this.push(a + (b - a) * frac);
        pos += step;
      }
      this.phase = pos - frames;
      this.prev = read(frames - 1);
    }
    // Too far behind: skip ahead to the target latency.
    if (this.count > this.maxSamples) {
      const drop = this.count - this.targetSamples;
      this.readPos = (this.readPos + drop) % this.capacity;
      this.count -= drop;
      this.dropped += drop;
    }
  }

  process(_inputs, outputs) {
    if (!this.running) return false;
    const out = outputs[0];
    const ch = out[0];
    const n = ch.length;
    if (!this.playing && this.count >= this.targetSamples) this.playing = true;
    if (this.playing && this.count >= n) {
      for (let i = 0; i < n; i++) {
        ch[i] = this.ring[this.readPos];
        this.readPos = this.readPos + 1 === this.capacity ? 0 : this.readPos + 1;
      }
      this.count -= n;
    } else {
      ch.fill(0);
      if (this.playing) { this.playing = false; this.underruns++; }
    }
    for (let c = 1; c < out.length; c++) out[c].set(ch);
    if (this.playing) {
      if (this.count < this.windowMin) this.windowMin = this.count;
      this.windowPos += n;
      if (this.windowPos >= this.windowSamples) {
        const excess = this.windowMin - this.targetSamples;
        if (excess > this.slackSamples) {
          const skip = Math.min(excess - this.slackSamples / 2, this.maxSkipSamples) | 0;
          this.readPos = (this.readPos + skip) % this.capacity;
          this.count -= skip;
          this.dropped += skip;
        }
        this.windowPos = 0;
        this.windowMin = Infinity;
      }
    } else {
      this.windowPos = 0;
      this.windowMin = Infinity;
    }
    if (currentFrame - this.lastReport >= sampleRate) { // about once a second
      this.lastReport = currentFrame;
      this.port.postMessage({
        bufferedMs: (this.count * 1000) / sampleRate, underruns: this.underruns, dropped: this.dropped, received: this.received,
      });
    }
    return true;
  }
}

registerProcessor('pgvc-pcm-playback', PcmPlaybackProcessor);
