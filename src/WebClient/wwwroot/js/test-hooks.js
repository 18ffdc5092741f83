// window.pgvc: read-only hooks for the Playwright tests (tests/E2ETests) and for debugging in the console.
// The tests depend on every name and shape here; change them together with the tests.
import { ConnectionState } from './relay-client.js';
import { currentCall, recordingOf } from './call-state.js';

export function installTestHooks(state, ctx) {
  window.pgvc = {
    get userId() { return state.me?.userId ?? state.client?.userId ?? null; },
    get displayName() { return state.me?.displayName ?? state.client?.displayName ?? null; },
    get connectionState() { return state.client?.state ?? ConnectionState.SIGNED_OUT; },
    // Falls back to the last call seen, so a test can still inspect a call after its panel was closed.
    get currentCall() { return currentCall(state) ?? state.lastCall; },
    get calls() { return state.calls; },
    get chatMessages() { return state.chatList; },
    get client() { return state.client; },
    get localFramesSent() { return state.videoCapture?.framesSent ?? 0; },
    get localAudioFramesSent() { return state.audioCapture?.framesSent ?? 0; },
    // The relays' step for our video in the active call ({level, maxJpegQuality, …, reason}), and what capture uses.
    get qualityStep() { return state.qualityStep; },
    // Who records the current call since when ({recordingId, startedBy, startedByName, startedAt}), or null.
    get recording() { return currentCall(state)?.recording ?? null; },
    get videoSettings() {
      const vc = state.videoCapture;
      return vc ? { width: vc.width, height: vc.height, quality: vc.quality, fps: vc.fps } : null;
    },
    // What capture last sent: {framesSent, framesSkipped, lastFrameBytes, frameWidth, frameHeight} (the JPEG's size
    // in bytes and pixels, after the settings' box and the caps), or null before capture starts.
    get localVideo() {
      const vc = state.videoCapture;
      return vc ? {
        framesSent: vc.framesSent, framesSkipped: vc.framesSkipped, lastFrameBytes: vc.lastFrameBytes,
        frameWidth: vc.canvas.width, frameHeight: vc.canvas.height,
      } : null;
    },
    get media() {
      return {
        micAvailable: state.mic.available, micOn: state.mic.on, camAvailable: state.cam.available, camOn: state.cam.on,
        audioContextState: state.audioCtx?.state ?? null, sampleRate: state.audioCtx?.sampleRate ?? null,
      };
    },
    // Zeros rather than null for a peer never heard from, so tests can compare counters without guards. Also (once a
    // frame came): videoWidth/videoHeight of the last video frame, videoKbps, audioKbps, audioFps, audio counters.
    stats(userId) {
      const s = state.stats.get(Number(userId));
      return s ? s.snapshot() : {
        fps: 0, latencyMsP50: null, kbps: 0, framesReceived: 0, framesDropped: 0, lastFrameAt: null,
      };
    },
    audioLevel(userId) { return state.playback?.level(Number(userId)) ?? null; },
    pixel(userId, x, y) { return state.tiles.get(Number(userId))?.renderer.pixel(x, y) ?? null; },
    // Recordings. The current call's `recording` ({recordingId, startedBy, startedByName, startedAt}) or null.
    recordingState() { return recordingOf(currentCall(state)); },
    // The open replay, or null: {recordingId, playing, phase, positionMs, durationMs, ended, buffering, bufferedAheadMs,
    // senders: {[userId]: {videoFrames, audioFrames, audioDropped, lastVideoMs}}, skewMs, maxAbsSkewMs, skewSamples,
    // audioContextState}. skewMs: at the last video draw, the frame's timeline ms minus the audio clock's (negative:
    // video late); maxAbsSkewMs: the largest |skew| since the player opened. audioFrames count frames played to their end.
    replayState() { return ctx.replay.state(); },
    replayPixel(userId, x, y) { return ctx.replay.pixel(Number(userId), x, y); },
    // {rms, dominantHz} of that participant's replayed audio over the last ~170-190 ms, or null before any of it.
    replayAudioLevel(userId) { return ctx.replay.audioLevel(Number(userId)); },
  };
}
