// Local media: the audio context, camera and microphone acquisition, the mute/camera toggles, and telling
// the relay our mic/camera flags so the others' tiles show them.
import { Limits } from './protocol.js';
import { VideoCapture } from './video-capture.js';
import { AUDIO_CONSTRAINTS, AudioCapture } from './audio-capture.js';
import { AudioPlayback } from './audio-playback.js';
import { describeMediaError, setText, show } from './ui.js';
import { activeCallId, currentCall, isLiveForMe, myPart } from './call-state.js';
import { capSettings } from './quality-advice.js';

async function getMedia(constraints) {
  if (!navigator.mediaDevices?.getUserMedia) {
    const e = new Error('mediaDevices unavailable');
    e.name = 'unsupported';
    throw e;
  }
  return navigator.mediaDevices.getUserMedia(constraints);
}

export function createMediaSession(ctx) {
  const { state, dom } = ctx;
  // Captures ask on every frame where to send, so sending stops the moment the call stops being active.
  const sendingTo = () => activeCallId(state);

  function ensureAudioContext() {
    if (!state.audioCtx) {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return null;
      state.audioCtx = new Ctx({ latencyHint: 'interactive' });
      // The protocol carries 8000-48000 Hz: resample in the context when the device runs faster.
      if (state.audioCtx.sampleRate > Limits.maxAudioSampleRate || state.audioCtx.sampleRate < Limits.minAudioSampleRate) {
        state.audioCtx.close().catch(() => {});
        state.audioCtx = new Ctx({ latencyHint: 'interactive', sampleRate: 48000 });
      }
      state.playback = new AudioPlayback(state.audioCtx);
      state.playback.ready().catch(() => {});
    }
    if (state.audioCtx.state === 'suspended') state.audioCtx.resume().catch(() => {});
    return state.audioCtx;
  }

  function videoConstraints() {
    return {
      width: { ideal: state.settings.width },
      height: { ideal: state.settings.height },
      frameRate: { ideal: state.settings.fps },
    };
  }

  async function acquireMedia() {
    let videoTrack = null, audioTrack = null;
    let videoErr = null, audioErr = null;
    try {
      const s = await getMedia({ video: videoConstraints(), audio: { ...AUDIO_CONSTRAINTS } });
      videoTrack = s.getVideoTracks()[0] ?? null;
      audioTrack = s.getAudioTracks()[0] ?? null;
    } catch {
      // Find out which one is missing or denied.
      try {
        const s = await getMedia({ video: videoConstraints() });
        videoTrack = s.getVideoTracks()[0] ?? null;
      } catch (e) {
        if (e?.name === 'OverconstrainedError') {
          try { videoTrack = (await getMedia({ video: true })).getVideoTracks()[0] ?? null; } catch (e2) { videoErr = e2; }
        } else videoErr = e;
      }
      try {
        const s = await getMedia({ audio: { ...AUDIO_CONSTRAINTS } });
        audioTrack = s.getAudioTracks()[0] ?? null;
      } catch (e) { audioErr = e; }
    }
    await attachVideoTrack(videoTrack, videoErr);
    await attachAudioTrack(audioTrack, audioErr);
  }

  function afterDeviceChange() {
    renderMediaError();
    renderControls();
    syncMediaState();
  }

  async function attachVideoTrack(track, err) {
    state.cam.available = !!track;
    state.mediaErrors.video = track ? null : describeMediaError('video', err ?? { name: 'NotFoundError' });
    if (track) {
      track.addEventListener('ended', () => {
        state.cam.available = false;
        state.mediaErrors.video = 'The camera stopped.';
        afterDeviceChange();
      });
      dom.localVideo.srcObject = new MediaStream([track]);
      dom.localVideo.play().catch(() => {});
      state.videoCapture.setTrack(track);
      state.videoCapture.setEnabled(state.cam.on);
      state.videoCapture.start();
    }
    afterDeviceChange();
  }

  async function attachAudioTrack(track, err) {
    state.mic.available = !!track;
    state.mediaErrors.audio = track ? null : describeMediaError('audio', err ?? { name: 'NotFoundError' });
    if (track) {
      track.addEventListener('ended', () => {
        state.mic.available = false;
        state.mediaErrors.audio = 'The microphone stopped.';
        afterDeviceChange();
      });
      const audioCtx = ensureAudioContext();
      if (audioCtx) {
        state.audioCapture.setEnabled(state.mic.on);
        try {
          await state.audioCapture.start(track);
        } catch (e) {
          console.error('audio capture failed', e);
          state.mic.available = false;
          state.mediaErrors.audio = `Microphone capture failed (${e.message}).`;
        }
      }
    }
    afterDeviceChange();
  }

  /** Once per page: capture keeps running between calls and only sends while a call is active. */
  function startMedia() {
    if (state.mediaStarted) return;
    state.mediaStarted = true;
    const audioCtx = ensureAudioContext();
    const { client } = state;
    const send = (buf) => state.client.sendMedia(buf, true);
    const sendAudio = (buf) => state.client.sendMedia(buf, false);
    state.videoCapture = new VideoCapture(dom.localVideo, send, sendingTo, {
      width: state.settings.width, height: state.settings.height, quality: state.settings.quality, fps: state.settings.fps,
      maxFrameBytes: client.limits.maxVideoFrameBytes ?? Limits.maxVideoFrameBytes,
      maxFps: client.limits.maxVideoFps ?? Limits.maxVideoFps,
    });
    state.audioCapture = audioCtx ? new AudioCapture(audioCtx, sendAudio, sendingTo, {
      maxFps: client.limits.maxAudioFps ?? Limits.maxAudioFps,
    }) : null;
    if (!state.audioCapture) state.mediaErrors.audio = 'Audio is not supported by this browser.';
    acquireMedia().catch((e) => console.error('media acquisition failed', e));
  }

  /** Tell the relay our mic/camera flags when they differ from what the call says. */
  function syncMediaState() {
    const call = currentCall(state);
    if (!call || !isLiveForMe(state, call) || !state.client?.isOpen || state.leavingCallId === call.callId) return;
    const audio = state.mic.available && state.mic.on;
    const video = state.cam.available && state.cam.on;
    const me = myPart(state, call);
    const key = `${audio},${video}`;
    if (me && me.audio === audio && me.video === video) { state.mediaStateSent.delete(call.callId); return; }
    if (state.mediaStateSent.get(call.callId) === key) return; // in flight or already sent; the event will follow
    state.mediaStateSent.set(call.callId, key);
    state.client.mediaState(call.callId, audio, video).catch((err) => {
      if (state.mediaStateSent.get(call.callId) === key) state.mediaStateSent.delete(call.callId);
      console.warn('media.state failed', err);
    });
  }

  function renderMediaError() {
    const parts = [];
    if (state.mediaErrors.video) parts.push(state.mediaErrors.video);
    if (state.mediaErrors.audio) parts.push(state.mediaErrors.audio);
    if (parts.length) {
      if (state.mic.available && !state.cam.available) parts.push('Calls will be audio-only.');
      else if (!state.mic.available && state.cam.available) parts.push('Others will see you but not hear you.');
      else if (!state.mic.available && !state.cam.available) parts.push('You can still join calls, watch, listen and chat.');
    }
    setText(dom.mediaError, parts.join(' '));
    show(dom.mediaError, parts.length > 0);
  }

  function renderControls() {
    const micOff = !state.mic.available || !state.mic.on;
    const camOff = !state.cam.available || !state.cam.on;
    dom.toggleMic.setAttribute('aria-pressed', String(micOff));
    dom.toggleCamera.setAttribute('aria-pressed', String(camOff));
    setText(dom.toggleMic.querySelector('.lbl'), micOff ? 'Unmute' : 'Mute');
    setText(dom.toggleCamera.querySelector('.lbl'), camOff ? 'Camera on' : 'Camera off');
    dom.toggleMic.title = state.mic.available ? (micOff ? 'Turn the microphone on' : 'Mute the microphone') : 'No microphone';
    dom.toggleCamera.title = state.cam.available ? (camOff ? 'Turn the camera on' : 'Turn the camera off') : 'No camera (click to retry)';
    show(dom.localCameraOff, camOff);
    show(dom.localMuted, micOff);
    dom.localTile.classList.toggle('camera-off', camOff);
  }

  // Without a device the toggles retry acquisition, so a late-plugged or newly permitted device can be used.
  function toggleMic() {
    ensureAudioContext();
    if (!state.mic.available) {
      getMedia({ audio: { ...AUDIO_CONSTRAINTS } }).then(
        (s) => { state.mic.on = true; return attachAudioTrack(s.getAudioTracks()[0] ?? null, null); },
        (e) => attachAudioTrack(null, e));
      return;
    }
    state.mic.on = !state.mic.on;
    state.audioCapture?.setEnabled(state.mic.on);
    renderControls();
    syncMediaState();
  }

  function toggleCamera() {
    if (!state.cam.available) {
      getMedia({ video: videoConstraints() }).then(
        (s) => { state.cam.on = true; return attachVideoTrack(s.getVideoTracks()[0] ?? null, null); },
        (e) => attachVideoTrack(null, e));
      return;
    }
    state.cam.on = !state.cam.on;
    state.videoCapture?.setEnabled(state.cam.on);
    renderControls();
    syncMediaState();
  }

  function bind() {
    dom.toggleMic.addEventListener('click', toggleMic);
    dom.toggleCamera.addEventListener('click', toggleCamera);
    // Audio needs a user gesture in ordinary browsers.
    const resume = () => { if (state.audioCtx?.state === 'suspended') state.audioCtx.resume().catch(() => {}); };
    document.addEventListener('pointerdown', resume, { capture: true });
    document.addEventListener('keydown', resume, { capture: true });
    window.addEventListener('pagehide', () => { state.videoCapture?.stop(); });
  }

  /** The relay asks our video in a call to step down (or back up): apply the caps to the user's own settings. */
  function onQuality(msg) {
    state.qualityAdvice.record(msg, performance.now());
    refreshQuality();
  }

  function refreshQuality() {
    const callId = activeCallId(state);
    const step = callId == null ? null : state.qualityAdvice.step(callId, performance.now());
    state.qualityStep = step;
    applyVideoSettings();
    const stepped = step != null && step.level > 0;
    show(dom.localQuality, stepped);
    if (stepped) setText(dom.localQuality, `Video step ${step.level} (${step.reason.replace('_', ' ')})`);
  }

  /**
   * The user's own settings under the active call's step onto the running capture. Both a changed setting and a new
   * step come through here, so a choice made while stepped down is capped at once, not at the next refresh, and the
   * caps go when the call does.
   */
  function applyVideoSettings() {
    const vc = state.videoCapture;
    if (!vc) return;
    const wanted = state.qualityStep ? capSettings(state.settings, state.qualityStep) : state.settings;
    if (wanted.quality !== vc.quality) vc.setQuality(wanted.quality);
    if (wanted.width !== vc.width || wanted.height !== vc.height) vc.setResolution(wanted.width, wanted.height);
    if (wanted.fps !== vc.fps) vc.setFps(wanted.fps);
  }

  return { ensureAudioContext, startMedia, syncMediaState, renderControls, bind, onQuality, refreshQuality, applyVideoSettings };
}
