// Incoming JPEG -> createImageBitmap -> drawImage on the participant's canvas. No object URLs.

export class VideoRenderer {
  /** @param {HTMLCanvasElement} canvas */
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d', { alpha: false });
    this.decoding = false;
    this.pending = null;     // the newest frame that arrived while decoding (older ones are dropped)
    this.lastDrawnSeq = null;
    this.framesDrawn = 0;
    this.framesSkipped = 0;
    this.closed = false;
  }

  /** @param {{payload: Uint8Array, sequence: number, a: number, b: number}} frame */
  push(frame) {
    if (this.closed) return;
    if (this.decoding) {
      if (this.pending) this.framesSkipped++;
      this.pending = frame;
      return;
    }
    this._decode(frame);
  }

  _decode(frame) {
    this.decoding = true;
    const blob = new Blob([frame.payload], { type: 'image/jpeg' });
    createImageBitmap(blob).then((bitmap) => {
      if (!this.closed) {
        const w = bitmap.width, h = bitmap.height;
        if (this.canvas.width !== w || this.canvas.height !== h) {
          this.canvas.width = w;
          this.canvas.height = h;
        }
        this.ctx.drawImage(bitmap, 0, 0);
        this.lastDrawnSeq = frame.sequence;
        this.framesDrawn++;
        this.canvas.dataset.frames = String(this.framesDrawn);
      }
      bitmap.close();
    }, () => { this.framesSkipped++; }).finally(() => {
      this.decoding = false;
      const next = this.pending;
      this.pending = null;
      if (next && !this.closed) this._decode(next);
    });
  }

  /** [r, g, b] at fractions (0..1) of the canvas, or null before the first frame. */
  pixel(fx, fy) {
    if (!this.framesDrawn) return null;
    const w = this.canvas.width, h = this.canvas.height;
    const x = Math.min(w - 1, Math.max(0, Math.floor(fx * w)));
    const y = Math.min(h - 1, Math.max(0, Math.floor(fy * h)));
    const d = this.ctx.getImageData(x, y, 1, 1).data;
    return [d[0], d[1], d[2]];
  }

  close() {
    this.closed = true;
    this.pending = null;
  }
}
