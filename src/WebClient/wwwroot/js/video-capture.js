// Camera -> <video> -> canvas -> JPEG (canvas.toBlob) -> media frame, at a fixed rate.
import { Limits, RateWindow, encodeVideoFrame, nowMicros } from './protocol.js';

export const RESOLUTIONS = Object.freeze([
  { label: '320×180', width: 320, height: 180 },
  { label: '640×360', width: 640, height: 360 },
  { label: '960×540', width: 960, height: 540 },
  { label: '1280×720', width: 1280, height: 720 },
]);
export const QUALITIES = Object.freeze([0.5, 0.65, 0.8, 0.9]);

export class VideoCapture {
  /**
   * @param {HTMLVideoElement} videoEl the local preview (the frame source)
   * @param {(buffer: ArrayBuffer) => boolean} send
   * @param {() => number|null} activeCallId the call to send to, or null when not sending
   */
  constructor(videoEl, send, activeCallId, options = {}) {
    this.video = videoEl;
    this.send = send;
    this.activeCallId = activeCallId;
    this.width = options.width ?? 640;
    this.height = options.height ?? 360;
    this.quality = options.quality ?? 0.65;
    this.fps = options.fps ?? 15;
    this.maxFrameBytes = options.maxFrameBytes ?? 256 * 1024;
    this.canvas = document.createElement('canvas');
    this.ctx = this.canvas.getContext('2d', { alpha: false, desynchronized: true });
    this.track = null;
    this.enabled = true;     // camera toggle
    this.inFlight = false;   // at most one toBlob at a time
    this.sequence = (Math.random() * 0xffffffff) >>> 0;
    this.framesSent = 0;
    this.framesSkipped = 0;
    this.lastFrameBytes = 0;
    this._timer = null;
    this._nextDue = 0;
    // Stay under the relay's limit even when timers bunch up (one frame of headroom).
    this.rate = new RateWindow((options.maxFps ?? Limits.maxVideoFps) - 1, 1000);
  }

  setTrack(track) {
    this.track = track;
    if (track) track.enabled = this.enabled;
  }

  setEnabled(on) {
    this.enabled = !!on;
    if (this.track) this.track.enabled = this.enabled;
  }

  setResolution(width, height) {
    this.width = width;
    this.height = height;
    if (this.track) {
      this.track.applyConstraints({ width: { ideal: width }, height: { ideal: height }, frameRate: { ideal: this.fps } })
        .catch(() => { /* the camera keeps its size; the canvas scales */ });
    }
  }

  setQuality(q) { this.quality = Math.min(1, Math.max(0.1, Number(q) || 0.65)); }

  setFps(fps) {
    this.fps = Math.min(30, Math.max(1, Number(fps) || 15));
    if (this._timer) { this.stop(); this.start(); }
  }

  start() {
    if (this._timer) return;
    const period = 1000 / this.fps;
    this._nextDue = performance.now();
    const tick = () => {
      const now = performance.now();
      this._nextDue += period;
      if (this._nextDue < now - period) this._nextDue = now + period; // fell behind: do not burst
      this._timer = setTimeout(tick, Math.max(0, this._nextDue - now));
      this._capture();
    };
    this._timer = setTimeout(tick, 0);
  }

  stop() {
    clearTimeout(this._timer);
    this._timer = null;
  }

  _targetSize() {
    const vw = this.video.videoWidth, vh = this.video.videoHeight;
    if (!vw || !vh) return null;
    // Fit the source into the selected box, keep the aspect ratio, never upscale; even sizes.
    const scale = Math.min(1, this.width / vw, this.height / vh);
    const w = Math.max(2, Math.round((vw * scale) / 2) * 2);
    const h = Math.max(2, Math.round((vh * scale) / 2) * 2);
    return [w, h];
  }

  _capture() {
    const callId = this.activeCallId();
    if (callId == null || !this.enabled || !this.track || this.track.readyState !== 'live') return;
    // An encode still running: capture right after it instead of losing this tick (slow machines keep their fps).
    if (this.inFlight) { this._captureWhenFree = true; return; }
    if (this.video.readyState < 2) return; // HAVE_CURRENT_DATA
    const size = this._targetSize();
    if (!size) return;
    const [w, h] = size;
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
    }
    if (!this.rate.tryTake()) { this.framesSkipped++; return; }
    const captureTime = nowMicros();
    this.ctx.drawImage(this.video, 0, 0, w, h);
    this.inFlight = true;
    const quality = this.quality;
    const done = () => {
      this.inFlight = false;
      if (this._captureWhenFree) { this._captureWhenFree = false; this._capture(); }
    };
    this.canvas.toBlob((blob) => {
      if (!blob) { done(); return; }
      blob.arrayBuffer().then((buf) => {
        queueMicrotask(done);
        if (buf.byteLength === 0 || buf.byteLength > this.maxFrameBytes) { this.framesSkipped++; return; }
        // The call may have ended while encoding.
        const nowCall = this.activeCallId();
        if (nowCall !== callId || !this.enabled) return;
        const frame = encodeVideoFrame({ sequence: this.sequence, callId, captureTime, width: w, height: h }, buf);
        if (this.send(frame)) {
          this.sequence = (this.sequence + 1) >>> 0;
          this.framesSent++;
          this.lastFrameBytes = buf.byteLength;
        } else {
          this.framesSkipped++;
        }
      }, done);
    }, 'image/jpeg', quality);
  }
}
