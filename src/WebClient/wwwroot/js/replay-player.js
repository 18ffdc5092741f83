// The replay player: one recording played with its original timing. An AudioContext of its own is the master clock:
// audio frames are scheduled on it at their timeline positions, and a requestAnimationFrame loop draws each sender's
// video frame once that clock reaches it, so pausing the context (suspend) pauses the picture with the sound. A seek
// aborts the stream and starts another at the new position. The timing rules are in replay-timeline.js, the stream's
// framing in replay-stream.js; this module holds what needs a browser (WebAudio, canvases, fetch).
import { MediaKind } from './protocol.js';
import { analyserLevel } from './audio-playback.js';
import { createReplayTile, formatDateTime, setText, show } from './ui.js';
import { myId, nameOf } from './call-state.js';
import { personLabel } from './recordings-format.js';
import { ReplayRecordParser, decodePcm16, pumpReplay, timelineMs } from './replay-stream.js';
import {
  AudioPlacer, DECODE_LEAD_MS, MAX_DECODING, READ_CHUNK_BYTES, ReplayClock, START_DELAY_S, SkewMeter, VideoQueue,
  formatClock, isEnded, isUnderrun, pcmDurationMs, readyToStart, recoveredFromUnderrun, wantsMoreMedia,
} from './replay-timeline.js';

// The AnalyserNode's window: 8192 samples are 170-186 ms at 48/44.1 kHz, replayAudioLevel's "last ~200 ms".
const ANALYSER_FFT = 8192;
// The reader re-checks for room at least this often: requestAnimationFrame, which wakes it, stops in a background tab.
const WAKE_POLL_MS = 100;
// A context that will not start (no user gesture yet) is asked again this often.
const RESUME_RETRY_MS = 500;
// Paused after a seek, a sender's first frame this close after the position is shown as the picture there.
const POSTER_WINDOW_MS = 250;

/** One recording's playback: its stream, clock, audio graph and tiles. Created by a click, so its audio may start. */
class ReplaySession {
  constructor({ recording, api, tilesEl, meId, nameFor, onError }) {
    this.id = recording.id;
    this.durationMs = Math.max(0, recording.durationMs ?? 0);
    this.active = !!recording.active;
    this.api = api;
    this.tilesEl = tilesEl;
    this.meId = meId;
    this.nameFor = nameFor;
    this.onError = onError;
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) throw new Error('this browser has no Web Audio');
    this.audio = new Ctx({ latencyHint: 'playback' });
    this.ctxRun = this.audio.state === 'running'; // what was last asked of the context
    this.lastResumeAt = 0;
    this.clock = new ReplayClock();
    this.skew = new SkewMeter();
    this.senders = new Map(); // userId -> {tile, canvas, g2d, video, placer, analyser, stats, drawn}
    this.sources = new Set(); // scheduled AudioBufferSourceNodes, stopped by a seek
    this.pendingAudio = [];   // [sender, frame, tMs] received before the clock was anchored
    this.gen = 0;             // the current stream; an older one's callbacks find it changed and stop
    this.abort = null;
    this.playing = false;
    this.ended = false;
    this.buffering = false;
    this.failed = null;
    this.fromMs = 0;
    this.pausedAtMs = 0;
    this.stalledAtMs = 0;     // the scheduling clock where an underrun stopped it
    this.lastReceivedMs = 0;
    this.streamDone = false;
    this.reading = false;
    this.wake = null;
    this.posterWanted = false; // paused after a seek: show the picture at the new position
    this.closed = false;
    for (const p of recording.participants ?? []) this.sender(p.userId, p.displayName);
    this.loop = () => this.tick();
    this.raf = requestAnimationFrame(this.loop);
  }

  /** A newer summary (GET /api/recordings/{id}): an active recording has grown, or has stopped, since it was listed. */
  update(recording) {
    this.active = !!recording.active;
    if (recording.durationMs > this.durationMs) this.durationMs = recording.durationMs;
    for (const p of recording.participants ?? []) this.sender(p.userId, p.displayName);
  }

  sender(userId, displayName) {
    let s = this.senders.get(userId);
    if (s) return s;
    const name = displayName ?? this.nameFor(userId);
    const { tile, canvas } = createReplayTile(userId, userId === this.meId ? `${name} (you)` : name);
    this.tilesEl.append(tile);
    s = {
      tile, canvas, g2d: canvas.getContext('2d', { alpha: false }), video: new VideoQueue(), placer: new AudioPlacer(),
      analyser: null, drawn: false, posterShown: false, stats: { videoFrames: 0, audioFrames: 0, audioDropped: 0, lastVideoMs: null },
    };
    this.senders.set(userId, s);
    return s;
  }

  /** Each sender's audio goes through its own analyser, so replayAudioLevel(userId) hears that sender only. */
  analyserFor(s) {
    if (!s.analyser) {
      s.analyser = this.audio.createAnalyser();
      s.analyser.fftSize = ANALYSER_FFT;
      s.analyser.smoothingTimeConstant = 0.3;
      s.analyser.connect(this.audio.destination);
    }
    return s.analyser;
  }

  /**
   * The context time being heard now: the output timestamp, extrapolated to this moment, is what leaves the speakers
   * (currentTime runs ahead of it by the output latency). Video is drawn by this clock, so it matches what is heard.
   */
  audibleTime() {
    const a = this.audio;
    const now = a.currentTime;
    if (a.state === 'running' && typeof a.getOutputTimestamp === 'function') {
      const ts = a.getOutputTimestamp();
      if (ts && ts.contextTime > 0 && ts.performanceTime > 0) {
        const t = ts.contextTime + (performance.now() - ts.performanceTime) / 1000;
        return Math.min(now, Math.max(now - 0.5, t));
      }
    }
    return Math.max(0, now - (a.outputLatency || 0));
  }

  clockMs() { return this.clock.toTimeline(this.audibleTime()); }

  get positionMs() {
    if (this.ended) return this.durationMs;
    if (!this.clock.anchored || !this.playing || this.buffering) return Math.min(this.pausedAtMs, this.durationMs);
    return Math.min(this.durationMs, Math.max(this.fromMs, this.clockMs()));
  }

  play() {
    if (this.closed) return;
    this.playing = true;
    this.posterWanted = false;
    if (this.ended || this.failed || !this.abort) {
      const from = this.ended ? 0 : this.pausedAtMs;
      this.failed = null;
      this.restart(from);
    }
    this.syncContext();
    this.poke();
  }

  pause() {
    if (!this.playing) return;
    this.pausedAtMs = this.positionMs;
    this.playing = false;
    this.syncContext();
  }

  /** Flush what is scheduled and start a new stream at `ms`; playing or paused stays as it was. */
  seek(ms) {
    if (this.closed) return;
    const target = Math.max(0, Math.min(Math.round(Number(ms) || 0), this.durationMs));
    this.failed = null;
    this.restart(target);
    this.posterWanted = !this.playing;
    this.syncContext();
  }

  restart(fromMs) {
    this.gen++;
    this.abort?.abort();
    this.flush();
    this.abort = new AbortController();
    this.clock.reset();
    this.fromMs = fromMs;
    this.pausedAtMs = fromMs;
    this.lastReceivedMs = fromMs;
    this.streamDone = false;
    this.reading = false;
    this.buffering = false;
    this.ended = false;
    this.run(this.gen, fromMs, this.abort.signal);
  }

  flush() {
    for (const src of this.sources) {
      src.onended = null;
      try { src.stop(); } catch { /* not started */ }
      src.disconnect();
    }
    this.sources.clear();
    this.pendingAudio = [];
    for (const s of this.senders.values()) {
      for (const f of s.video.clear()) this.discard(f);
      s.placer.reset();
      s.posterShown = false;
    }
  }

  async run(gen, fromMs, signal) {
    const current = () => gen === this.gen && !this.closed;
    let reader = null;
    try {
      const res = await this.api.media(this.id, fromMs, signal);
      if (!current()) { res.body.cancel().catch(() => {}); return; }
      // A byte reader reads into buffers of our size; a default one hands over whatever the network buffered (in
      // Chromium up to megabytes at once), which would overshoot the read-ahead by seconds.
      let read;
      try {
        reader = res.body.getReader({ mode: 'byob' });
        read = () => reader.read(new Uint8Array(READ_CHUNK_BYTES));
      } catch {
        reader = res.body.getReader();
        read = () => reader.read();
      }
      const result = await pumpReplay({ read }, {
        parser: new ReplayRecordParser(),
        onFrame: (frame) => this.onFrame(frame),
        waitForRoom: () => this.waitForRoom(current),
        isCurrent: current,
        onReading: (reading) => { if (current()) this.reading = reading; },
      });
      if (result.stopped) return;
      if (!result.complete) console.warn(`replay of recording ${this.id}: the stream ended inside a record`);
      this.streamDone = true;
      this.maybeStart();
    } catch (err) {
      if (!current() || err?.name === 'AbortError') return;
      this.failed = err;
      this.playing = false;
      this.pausedAtMs = this.positionMs;
      this.abort = null;
      this.syncContext();
      this.onError(err);
    } finally {
      if (reader && !current()) reader.cancel().catch(() => {});
    }
  }

  /** Backpressure: no read while 2 s are buffered ahead of the play position (only the preroll while paused). */
  async waitForRoom(current) {
    while (current() && !wantsMoreMedia({ bufferedAheadMs: this.lastReceivedMs - this.positionMs, playing: this.playing })) {
      await new Promise((resolve) => { this.wake = resolve; setTimeout(resolve, WAKE_POLL_MS); });
    }
  }

  poke() {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  onFrame(frame) {
    const tMs = timelineMs(frame);
    if (tMs > this.lastReceivedMs) this.lastReceivedMs = tMs;
    if (this.active && tMs > this.durationMs) this.durationMs = tMs;
    const s = this.sender(frame.senderId);
    if (frame.kind === MediaKind.VIDEO) {
      s.video.push({ tMs, payload: frame.payload });
    } else if (frame.kind === MediaKind.AUDIO) {
      if (this.clock.anchored) this.scheduleAudio(s, frame, tMs);
      else this.pendingAudio.push([s, frame, tMs]);
    }
    this.maybeStart();
  }

  /** Anchor the clock once the preroll is in: the stream's first position plays a moment from now. */
  maybeStart() {
    if (this.clock.anchored || this.closed) return;
    if (!readyToStart({ bufferedAheadMs: this.lastReceivedMs - this.fromMs, streamDone: this.streamDone })) return;
    this.clock.anchor(this.audio.currentTime + START_DELAY_S, this.fromMs);
    for (const [s, frame, tMs] of this.pendingAudio.splice(0)) this.scheduleAudio(s, frame, tMs);
    this.syncContext();
  }

  scheduleAudio(s, frame, tMs) {
    const channels = frame.a || 1;
    const rate = frame.c;
    if (rate < 3000 || rate > 768000 || frame.payload.byteLength < 2 * channels) return; // createBuffer's range
    const durationMs = pcmDurationMs(frame.payload.byteLength, channels, rate);
    const place = s.placer.place(tMs, durationMs, this.clock.toTimeline(this.audio.currentTime));
    if (!place) { s.stats.audioDropped++; return; }
    const pcm = decodePcm16(frame.payload, channels);
    const buffer = this.audio.createBuffer(channels, pcm[0].length, rate);
    pcm.forEach((data, c) => buffer.copyToChannel(data, c));
    const src = this.audio.createBufferSource();
    src.buffer = buffer;
    src.connect(this.analyserFor(s));
    src.onended = () => {
      this.sources.delete(src);
      src.disconnect();
      s.stats.audioFrames++;
    };
    src.start(this.clock.toCtx(place.atMs), place.offsetMs / 1000);
    this.sources.add(src);
  }

  /** The context runs while playing (and not buffering or over): it is the clock, so this is play/pause. */
  syncContext() {
    if (this.closed) return;
    const run = this.playing && !this.buffering && !this.ended;
    if (run === this.ctxRun && !(run && this.audio.state === 'suspended' && performance.now() - this.lastResumeAt > RESUME_RETRY_MS)) return;
    this.ctxRun = run;
    if (run) {
      this.lastResumeAt = performance.now();
      this.audio.resume().catch(() => {});
    } else {
      this.audio.suspend().catch(() => {});
    }
  }

  tick() {
    if (this.closed) return;
    this.raf = requestAnimationFrame(this.loop);
    if (!this.clock.anchored || !this.playing || this.buffering) this.prepare();
    if (this.clock.anchored && this.playing && !this.ended) {
      if (this.buffering) {
        if (recoveredFromUnderrun({ stalledAtMs: this.stalledAtMs, lastReceivedMs: this.lastReceivedMs, streamDone: this.streamDone })) {
          this.buffering = false;
          this.syncContext();
        }
      } else {
        const clockMs = this.clockMs();
        this.drawDue(clockMs);
        // Underruns are judged by the clock audio is scheduled by: it runs ahead of the audible one by the output latency.
        const schedulingMs = this.clock.toTimeline(this.audio.currentTime);
        if (isEnded({ clockMs, durationMs: this.durationMs, active: this.active, streamDone: this.streamDone })) {
          this.finish();
        } else if (isUnderrun({ clockMs: schedulingMs, lastReceivedMs: this.lastReceivedMs, reading: this.reading, streamDone: this.streamDone })) {
          this.pausedAtMs = Math.max(this.fromMs, clockMs);
          this.stalledAtMs = schedulingMs;
          this.buffering = true;
          this.syncContext();
        }
      }
    }
    this.syncContext(); // retries a context that would not start
    this.poke();
  }

  /**
   * While the clock stands (preroll, pause, underrun): decode the frames due when it starts, so the first draw is not
   * late by a decode; paused after a seek, draw each sender's first frame there (a poster, not counted as skew).
   */
  prepare() {
    const at = this.positionMs;
    for (const s of this.senders.values()) {
      const { decode, skipped } = s.video.toDecode(at, DECODE_LEAD_MS, MAX_DECODING);
      for (const f of skipped) this.discard(f);
      for (const f of decode) this.decode(f);
      if (!this.posterWanted || s.posterShown) continue;
      const first = s.video.frames[0];
      if (first?.state === 'ready' && first.tMs <= at + POSTER_WINDOW_MS) {
        const { frame, dropped } = s.video.take(first.tMs);
        for (const f of dropped) this.discard(f);
        if (frame) { this.draw(s, frame, { poster: true }); s.posterShown = true; }
      }
    }
  }

  drawDue(clockMs) {
    for (const s of this.senders.values()) {
      const { decode, skipped } = s.video.toDecode(clockMs, DECODE_LEAD_MS, MAX_DECODING);
      for (const f of skipped) this.discard(f);
      for (const f of decode) this.decode(f);
      const { frame, dropped } = s.video.take(clockMs);
      for (const f of dropped) this.discard(f);
      if (frame) this.draw(s, frame);
    }
  }

  decode(f) {
    f.state = 'decoding';
    createImageBitmap(new Blob([f.payload], { type: 'image/jpeg' })).then((bitmap) => {
      if (f.discarded || this.closed) { bitmap.close(); return; }
      f.bitmap = bitmap;
      f.state = 'ready';
    }, () => { f.state = 'failed'; }).finally(() => { f.payload = null; });
  }

  discard(f) {
    f.discarded = true;
    f.bitmap?.close();
    f.bitmap = null;
    f.payload = null;
  }

  draw(s, f, { poster = false } = {}) {
    const b = f.bitmap;
    if (s.canvas.width !== b.width || s.canvas.height !== b.height) {
      s.canvas.width = b.width;
      s.canvas.height = b.height;
    }
    s.g2d.drawImage(b, 0, 0);
    b.close();
    f.bitmap = null;
    s.drawn = true;
    s.stats.videoFrames++;
    s.stats.lastVideoMs = Math.round(f.tMs);
    s.canvas.dataset.frames = String(s.stats.videoFrames);
    // The clock at this very moment, not at the tick's start: what the skew says is what the eye and ear get.
    if (!poster) this.skew.record(f.tMs, this.clockMs());
  }

  /** At the recording's end: stop, and let Play start it over. */
  finish() {
    this.ended = true;
    this.playing = false;
    this.pausedAtMs = this.durationMs;
    this.gen++;
    this.abort?.abort();
    this.abort = null;
    this.syncContext();
  }

  close() {
    if (this.closed) return;
    this.gen++;
    this.abort?.abort();
    this.flush();
    this.closed = true;
    cancelAnimationFrame(this.raf);
    this.poke();
    for (const s of this.senders.values()) s.tile.remove();
    this.audio.close().catch(() => {});
  }

  get status() {
    if (this.failed) return 'Playback stopped: the stream failed.';
    if (this.ended) return 'Ended';
    if (this.buffering) return 'Buffering…';
    if (this.playing && !this.clock.anchored) return 'Loading…';
    if (this.playing && this.audio.state === 'suspended' && performance.now() - this.lastResumeAt > 2 * RESUME_RETRY_MS) {
      return 'Click Play again to allow sound.';
    }
    return this.playing ? 'Playing' : 'Paused';
  }

  get phase() {
    if (this.failed) return 'failed';
    if (this.ended) return 'ended';
    if (!this.playing) return 'paused';
    if (!this.clock.anchored) return 'loading';
    if (this.buffering) return 'buffering';
    return 'playing';
  }

  snapshot() {
    const senders = {};
    for (const [userId, s] of this.senders) senders[userId] = { ...s.stats };
    return {
      recordingId: this.id,
      playing: this.playing,
      phase: this.phase,
      positionMs: Math.round(this.positionMs),
      durationMs: Math.round(this.durationMs),
      ended: this.ended,
      buffering: this.buffering,
      bufferedAheadMs: Math.max(0, Math.round(this.lastReceivedMs - this.positionMs)),
      senders,
      skewMs: this.skew.lastMs === null ? null : Math.round(this.skew.lastMs * 10) / 10,
      maxAbsSkewMs: Math.round(this.skew.maxAbsMs * 10) / 10,
      skewSamples: this.skew.samples,
      audioContextState: this.audio.state,
    };
  }

  /** [r, g, b] at fractions (0..1) of the sender's canvas, or null before its first frame. */
  pixel(userId, fx, fy) {
    const s = this.senders.get(userId);
    if (!s?.drawn) return null;
    const w = s.canvas.width, h = s.canvas.height;
    const x = Math.min(w - 1, Math.max(0, Math.floor(fx * w)));
    const y = Math.min(h - 1, Math.max(0, Math.floor(fy * h)));
    const d = s.g2d.getImageData(x, y, 1, 1).data;
    return [d[0], d[1], d[2]];
  }

  audioLevel(userId) {
    const a = this.senders.get(userId)?.analyser;
    return a ? analyserLevel(a, this.audio.sampleRate) : null;
  }
}

/** The player panel of the recordings view: at most one recording plays at a time. */
export function createReplayPlayer(ctx) {
  const { state, dom } = ctx;
  let session = null;
  let dragValue = null;  // the slider's value while the user moves it, until the change event seeks there
  let looping = false;
  let rendered = '';    // the last rendered key, so a tick only touches the DOM when something shows differently

  function onError(err) {
    if (err?.unauthorized) { ctx.recordings.signInAgain(); return; }
    ctx.notices.showRecordingsError(`Could not play the recording: ${String(err?.message ?? err).replace(/\.$/, '')}.`);
    if (err?.notFound) { close(); ctx.recordings.refresh(); }
  }

  /** Opens the player on a recording (a row of the list) and starts it. Call from the click: it creates the audio. */
  function open(recording) {
    close();
    try {
      session = new ReplaySession({
        recording, api: ctx.recordingsApi, tilesEl: dom.replayTiles, meId: myId(state),
        nameFor: (userId) => nameOf(state, userId), onError,
      });
    } catch (err) {
      ctx.notices.showRecordingsError(`Could not play the recording: ${err.message}.`);
      return;
    }
    const s = session;
    dom.replayPlayer.dataset.recordingId = String(recording.id);
    setText(dom.replayTitle, `Recording started by ${personLabel(recording.startedBy, myId(state))}`);
    setText(dom.replaySubtitle, formatDateTime(recording.startedAt));
    show(dom.replayPlayer, true);
    s.play();
    render();
    dom.replayToggle.focus();
    // The list may be stale, and an active recording has grown since it was listed.
    ctx.recordingsApi.get(recording.id).then((fresh) => { if (session === s) s.update(fresh); }, (err) => { if (session === s) onError(err); });
    loop();
  }

  // Renders the controls while a session is open (the session's own rAF loop runs the playback).
  function loop() {
    if (looping) return;
    looping = true;
    const frame = () => {
      if (!session) { looping = false; return; }
      render();
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  }

  function close() {
    if (!session) return;
    session.close();
    session = null;
    rendered = '';
    dragValue = null;
    dom.replayTiles.replaceChildren();
    delete dom.replayPlayer.dataset.recordingId;
    show(dom.replayPlayer, false);
  }

  function render() {
    if (!session) return;
    const pos = session.positionMs, dur = session.durationMs;
    const time = `${formatClock(pos)} / ${formatClock(dur)}`;
    const dragging = dragValue !== null;
    const key = `${session.playing}|${session.phase}|${session.status}|${time}|${Math.round(dur)}|${dragging ? 'drag' : Math.round(pos / 100)}`;
    if (key === rendered) return;
    rendered = key;
    setText(dom.replayToggle.querySelector('.lbl'), session.playing ? 'Pause' : 'Play');
    dom.replayToggle.setAttribute('aria-label', session.playing ? 'Pause the replay' : 'Play the replay');
    dom.replayPlayer.dataset.state = session.phase;
    setText(dom.replayStatus, session.status);
    const max = String(Math.round(dur));
    if (dom.replaySeek.max !== max) dom.replaySeek.max = max;
    if (!dragging) {
      dom.replaySeek.value = String(Math.round(pos / 100) * 100);
      setText(dom.replayTime, time);
      dom.replaySeek.setAttribute('aria-valuetext', `${formatClock(pos)} of ${formatClock(dur)}`);
    }
  }

  function bind() {
    dom.replayToggle.addEventListener('click', () => {
      if (!session) return;
      if (session.playing) session.pause(); else session.play();
      render();
    });
    dom.replayClose.addEventListener('click', () => { close(); dom.recordingsTitle.focus(); });
    // While the user moves the slider (input events), the clock does not move it back; the change event seeks.
    const seek = dom.replaySeek;
    seek.addEventListener('input', () => {
      dragValue = Number(seek.value);
      setText(dom.replayTime, `${formatClock(dragValue)} / ${formatClock(session?.durationMs ?? 0)}`);
    });
    seek.addEventListener('change', () => {
      dragValue = null;
      session?.seek(Number(seek.value));
      render();
    });
    seek.addEventListener('blur', () => { if (dragValue !== null) { dragValue = null; render(); } });
  }

  return {
    open, close, bind, render,
    get recordingId() { return session?.id ?? null; },
    state: () => session?.snapshot() ?? null,
    pixel: (userId, fx, fy) => session?.pixel(userId, fx, fy) ?? null,
    audioLevel: (userId) => session?.audioLevel(userId) ?? null,
  };
}
