// PgVideoChat browser client: wires the relay client, media and the UI together.
import {
  CallState, FINAL_CALL_STATES, Limits, MediaKind, ParticipantState, isValidChatText, validateDisplayName,
} from './protocol.js';
import { ConnectionState, RelayClient } from './relay-client.js';
import { RESOLUTIONS, QUALITIES, VideoCapture } from './video-capture.js';
import { VideoRenderer } from './video-render.js';
import { AUDIO_CONSTRAINTS, AudioCapture } from './audio-capture.js';
import { AudioPlayback } from './audio-playback.js';
import { StreamStats, formatStats } from './stats.js';
import {
  $, createChatMessage, createPendingMessage, createRemoteTile, describeMediaError, el, setText, show, syncSelect,
} from './ui.js';

const params = new URLSearchParams(location.search);
const numParam = (name, fallback) => {
  const v = Number(params.get(name));
  return Number.isFinite(v) && v > 0 ? v : fallback;
};

// ---------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------
const S = {
  client: null,
  me: null,                    // {userId, displayName}
  online: new Map(),           // userId -> displayName (excluding me)
  calls: new Map(),            // callId -> call object
  lastCall: null,              // the last call object received
  currentCallId: null,         // the call shown in the call panel
  connectingCallId: null,      // accepted locally, waiting for the first `active` event
  leavingCallId: null,         // hung up locally, waiting for the event
  incomingCallId: null,
  dismissedIncoming: new Set(),
  chatById: new Map(),
  chatList: [],                // sorted by id
  pending: new Map(),          // clientMsgId -> {clientMsgId, text, callId, to, el, status, id}
  tiles: new Map(),            // userId -> {tile, canvas, renderer, cameraOff, muted, stats, nameEl}
  stats: new Map(),            // userId -> StreamStats
  mic: { available: false, on: true },
  cam: { available: false, on: true },
  mediaErrors: { audio: null, video: null },
  mediaStateSent: new Map(),   // callId -> "audio,video" in flight / last sent
  stream: null,
  audioCtx: null,
  videoCapture: null,
  audioCapture: null,
  playback: null,
  mediaStarted: false,
  settings: {
    width: numParam('w', 640),
    height: numParam('h', 360),
    quality: Math.min(1, numParam('q', 0.65)),
    fps: Math.min(30, numParam('fps', 15)),
  },
};

const dom = {};

// ---------------------------------------------------------------------------------------------
// Call helpers
// ---------------------------------------------------------------------------------------------
const myId = () => S.me?.userId ?? null;
const myPart = (call) => call?.participants?.find((p) => p.userId === myId()) ?? null;
const currentCall = () => (S.currentCallId != null ? S.calls.get(S.currentCallId) ?? null : null);

/** A call I take part in that is not over for me. */
function isLiveForMe(call) {
  if (!call || FINAL_CALL_STATES.has(call.state)) return false;
  const me = myPart(call);
  return me?.state === ParticipantState.JOINED;
}

/** The call media is sent to, or null. */
function activeCallId() {
  const call = currentCall();
  if (!call || call.state !== CallState.ACTIVE) return null;
  if (S.leavingCallId === call.callId) return null;
  return myPart(call)?.state === ParticipantState.JOINED ? call.callId : null;
}

function displayedCallState(call) {
  if (!call) return S.connectingCallId != null ? 'connecting' : CallState.RINGING;
  if (FINAL_CALL_STATES.has(call.state)) return call.state;
  const me = myPart(call);
  if (S.connectingCallId === call.callId && !(call.state === CallState.ACTIVE && me?.state === ParticipantState.JOINED)) {
    return 'connecting';
  }
  if (me?.state === ParticipantState.DECLINED) return CallState.DECLINED; // a group call going on without me
  if (me?.state === ParticipantState.LEFT) return CallState.ENDED;        // ended for me
  if (me?.state === ParticipantState.INVITED) return CallState.RINGING;   // e.g. added to an active group call
  return call.state;
}

function nameOf(userId) {
  if (userId === myId()) return S.me.displayName;
  if (S.online.has(userId)) return S.online.get(userId);
  for (const call of S.calls.values()) {
    const p = call.participants?.find((x) => x.userId === userId);
    if (p?.displayName) return p.displayName;
  }
  return `User ${userId}`;
}

// ---------------------------------------------------------------------------------------------
// Errors / banners
// ---------------------------------------------------------------------------------------------
let appErrorTimer = null;
function showAppError(text, ms = 6000) {
  setText(dom.appError, text);
  show(dom.appError, !!text);
  clearTimeout(appErrorTimer);
  if (text && ms) appErrorTimer = setTimeout(() => show(dom.appError, false), ms);
}

function describeRequestError(err, what) {
  const code = err?.code ?? 'error';
  const map = {
    not_connected: 'not connected to the relay',
    disconnected: 'the connection dropped',
    timeout: 'the relay did not answer in time',
    not_found: 'no such call or user',
    not_participant: 'you are not part of that call',
    invalid_state: 'the call cannot do that now',
    rate_limited: 'too many requests, try again',
    unavailable: 'the relay is temporarily unavailable',
  };
  return `Could not ${what}: ${map[code] ?? err?.message ?? code}.`;
}

function renderMediaError() {
  const parts = [];
  if (S.mediaErrors.video) parts.push(S.mediaErrors.video);
  if (S.mediaErrors.audio) parts.push(S.mediaErrors.audio);
  if (parts.length) {
    if (S.mic.available && !S.cam.available) parts.push('Calls will be audio-only.');
    else if (!S.mic.available && S.cam.available) parts.push('Others will see you but not hear you.');
    else if (!S.mic.available && !S.cam.available) parts.push('You can still join calls, watch, listen and chat.');
  }
  setText(dom.mediaError, parts.join(' '));
  show(dom.mediaError, parts.length > 0);
}

// ---------------------------------------------------------------------------------------------
// Media (local)
// ---------------------------------------------------------------------------------------------
function ensureAudioContext() {
  if (!S.audioCtx) {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return null;
    S.audioCtx = new Ctx({ latencyHint: 'interactive' });
    // The protocol carries 8000-48000 Hz: resample in the context when the device runs faster.
    if (S.audioCtx.sampleRate > Limits.maxAudioSampleRate || S.audioCtx.sampleRate < Limits.minAudioSampleRate) {
      S.audioCtx.close().catch(() => {});
      S.audioCtx = new Ctx({ latencyHint: 'interactive', sampleRate: 48000 });
    }
    S.playback = new AudioPlayback(S.audioCtx);
    S.playback.ready().catch(() => {});
  }
  if (S.audioCtx.state === 'suspended') S.audioCtx.resume().catch(() => {});
  return S.audioCtx;
}

function videoConstraints() {
  return {
    width: { ideal: S.settings.width },
    height: { ideal: S.settings.height },
    frameRate: { ideal: S.settings.fps },
  };
}

async function getMedia(constraints) {
  if (!navigator.mediaDevices?.getUserMedia) {
    const e = new Error('mediaDevices unavailable');
    e.name = 'unsupported';
    throw e;
  }
  return navigator.mediaDevices.getUserMedia(constraints);
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

async function attachVideoTrack(track, err) {
  S.cam.available = !!track;
  S.mediaErrors.video = track ? null : describeMediaError('video', err ?? { name: 'NotFoundError' });
  if (track) {
    track.addEventListener('ended', () => {
      S.cam.available = false;
      S.mediaErrors.video = 'The camera stopped.';
      renderMediaError(); renderControls(); syncMediaState();
    });
    dom.localVideo.srcObject = new MediaStream([track]);
    dom.localVideo.play().catch(() => {});
    S.videoCapture.setTrack(track);
    S.videoCapture.setEnabled(S.cam.on);
    S.videoCapture.start();
  }
  renderMediaError();
  renderControls();
  syncMediaState();
}

async function attachAudioTrack(track, err) {
  S.mic.available = !!track;
  S.mediaErrors.audio = track ? null : describeMediaError('audio', err ?? { name: 'NotFoundError' });
  if (track) {
    track.addEventListener('ended', () => {
      S.mic.available = false;
      S.mediaErrors.audio = 'The microphone stopped.';
      renderMediaError(); renderControls(); syncMediaState();
    });
    const ctx = ensureAudioContext();
    if (ctx) {
      S.audioCapture.setEnabled(S.mic.on);
      try {
        await S.audioCapture.start(track);
      } catch (e) {
        console.error('audio capture failed', e);
        S.mic.available = false;
        S.mediaErrors.audio = `Microphone capture failed (${e.message}).`;
      }
    }
  }
  renderMediaError();
  renderControls();
  syncMediaState();
}

function startMedia() {
  if (S.mediaStarted) return;
  S.mediaStarted = true;
  const ctx = ensureAudioContext();
  const send = (buf) => S.client.sendMedia(buf, true);
  const sendAudio = (buf) => S.client.sendMedia(buf, false);
  S.videoCapture = new VideoCapture(dom.localVideo, send, activeCallId, {
    width: S.settings.width, height: S.settings.height, quality: S.settings.quality, fps: S.settings.fps,
    maxFrameBytes: S.client.limits.maxVideoFrameBytes ?? Limits.maxVideoFrameBytes,
    maxFps: S.client.limits.maxVideoFps ?? Limits.maxVideoFps,
  });
  S.audioCapture = ctx ? new AudioCapture(ctx, sendAudio, activeCallId, {
    maxFps: S.client.limits.maxAudioFps ?? Limits.maxAudioFps,
  }) : null;
  if (!S.audioCapture) S.mediaErrors.audio = 'Audio is not supported by this browser.';
  acquireMedia().catch((e) => console.error('media acquisition failed', e));
}

/** Tell the relay our mic/camera flags when they differ from what the call says. */
function syncMediaState() {
  const call = currentCall();
  if (!call || !isLiveForMe(call) || !S.client?.isOpen || S.leavingCallId === call.callId) return;
  const audio = S.mic.available && S.mic.on;
  const video = S.cam.available && S.cam.on;
  const me = myPart(call);
  const key = `${audio},${video}`;
  if (me && me.audio === audio && me.video === video) { S.mediaStateSent.delete(call.callId); return; }
  if (S.mediaStateSent.get(call.callId) === key) return; // in flight or already sent; the event will follow
  S.mediaStateSent.set(call.callId, key);
  S.client.mediaState(call.callId, audio, video).catch((err) => {
    if (S.mediaStateSent.get(call.callId) === key) S.mediaStateSent.delete(call.callId);
    console.warn('media.state failed', err);
  });
}

// ---------------------------------------------------------------------------------------------
// Remote media
// ---------------------------------------------------------------------------------------------
function statsFor(userId) {
  let s = S.stats.get(userId);
  if (!s) S.stats.set(userId, (s = new StreamStats()));
  return s;
}

function ensureTile(userId) {
  let t = S.tiles.get(userId);
  if (t) return t;
  const parts = createRemoteTile(userId, nameOf(userId));
  t = { ...parts, renderer: new VideoRenderer(parts.canvas) };
  S.tiles.set(userId, t);
  dom.tiles.insertBefore(t.tile, dom.localTile);
  return t;
}

function removeTile(userId) {
  const t = S.tiles.get(userId);
  if (!t) return;
  t.renderer.close();
  t.tile.remove();
  S.tiles.delete(userId);
  S.playback?.remove(userId);
}

function onMedia(frame) {
  const callId = activeCallId();
  if (callId === null || frame.callId !== callId || frame.senderId === myId()) return;
  const call = S.calls.get(callId);
  const p = call?.participants?.find((x) => x.userId === frame.senderId);
  if (!p || p.state === ParticipantState.LEFT || p.state === ParticipantState.DECLINED) return;
  statsFor(frame.senderId).onFrame(frame);
  if (frame.kind === MediaKind.VIDEO) {
    ensureTile(frame.senderId).renderer.push(frame);
  } else if (frame.kind === MediaKind.AUDIO) {
    if (!S.tiles.has(frame.senderId)) ensureTile(frame.senderId);
    if (S.playback) S.playback.push(frame.senderId, frame);
  }
}

function renderTiles() {
  const call = currentCall();
  const callId = activeCallId();
  const keep = new Set();
  if (callId !== null && call) {
    for (const p of call.participants ?? []) {
      if (p.userId === myId() || p.state !== ParticipantState.JOINED) continue;
      keep.add(p.userId);
      const t = ensureTile(p.userId);
      const name = p.displayName ?? nameOf(p.userId);
      if (t.tile.dataset.name !== name) { t.tile.dataset.name = name; setText(t.nameEl, name); }
      const cameraOff = p.video === false;
      show(t.cameraOff, cameraOff);
      t.tile.classList.toggle('camera-off', cameraOff);
      show(t.muted, p.audio === false);
    }
  }
  for (const id of [...S.tiles.keys()]) if (!keep.has(id)) removeTile(id);
  S.playback?.removeAllExcept(keep);
}

function renderStatsOverlays() {
  for (const [userId, t] of S.tiles) {
    const s = S.stats.get(userId);
    setText(t.stats, s ? formatStats(s.snapshot()) : '–');
  }
}

// ---------------------------------------------------------------------------------------------
// Calls
// ---------------------------------------------------------------------------------------------
function acceptCallObject(call) {
  if (!call || call.callId == null) return false;
  const existing = S.calls.get(call.callId);
  if (existing && !existing._synthetic && !(call.version > existing.version)) return false;
  if (existing?._synthetic && call.version < existing.version) return false;
  const { type, ...rest } = call; // eslint-disable-line no-unused-vars
  S.calls.set(call.callId, rest);
  S.lastCall = rest;
  return true;
}

function onCallChanged(call) {
  const me = myPart(call);
  const cur = currentCall();
  const final = FINAL_CALL_STATES.has(call.state);
  // May this call replace the one in the panel? Not while another is live or being joined.
  const canTake = S.currentCallId === null || S.currentCallId === call.callId
    || (!isLiveForMe(cur) && S.connectingCallId !== S.currentCallId
        && !(myPart(cur)?.state === ParticipantState.INVITED && !FINAL_CALL_STATES.has(cur.state)));
  if (!final && call.callId !== S.leavingCallId && canTake
      && (me?.state === ParticipantState.JOINED
          || (me?.state === ParticipantState.INVITED && !S.dismissedIncoming.has(call.callId)))) {
    if (S.currentCallId !== call.callId) S.connectingCallId = null;
    S.currentCallId = call.callId;
  }
  if (S.connectingCallId === call.callId
      && ((call.state === CallState.ACTIVE && me?.state === ParticipantState.JOINED) || final)) {
    S.connectingCallId = null;
  }
  if (S.leavingCallId === call.callId && (final || me?.state !== ParticipantState.JOINED)) {
    S.leavingCallId = null;
  }
  // Incoming prompt.
  if (me?.state === ParticipantState.INVITED && !final
      && !S.dismissedIncoming.has(call.callId) && S.connectingCallId !== call.callId) {
    S.incomingCallId = call.callId;
  } else if (S.incomingCallId === call.callId) {
    S.incomingCallId = null;
  }
}

function onCallEvent(msg) {
  if (!acceptCallObject(msg)) return;
  onCallChanged(S.calls.get(msg.callId));
  renderAll();
}

async function startCall(userId) {
  ensureAudioContext();
  const cur = currentCall();
  if (isLiveForMe(cur)) return addToCall(cur.callId, userId);
  try {
    const ack = await S.client.invite([userId]);
    if (ack.callId != null) {
      const c = currentCall();
      if (!isLiveForMe(c) || c.callId === ack.callId) {
        S.currentCallId = ack.callId;
        S.connectingCallId = null;
      }
    }
    renderAll();
  } catch (err) {
    showAppError(describeRequestError(err, `call ${nameOf(userId)}`));
  }
}

async function addToCall(callId, userId) {
  try {
    await S.client.addToCall(callId, userId);
  } catch (err) {
    showAppError(describeRequestError(err, `add ${nameOf(userId)}`));
  }
}

async function acceptIncoming() {
  ensureAudioContext();
  const callId = S.incomingCallId;
  if (callId == null) return;
  const cur = currentCall();
  if (isLiveForMe(cur) && cur.callId !== callId) {
    S.leavingCallId = cur.callId;
    S.client.hangup(cur.callId).catch(() => {});
  }
  S.incomingCallId = null;
  S.dismissedIncoming.add(callId);
  S.currentCallId = callId;
  S.connectingCallId = callId;
  renderAll();
  try {
    await S.client.accept(callId);
  } catch (err) {
    if (S.connectingCallId === callId) S.connectingCallId = null;
    showAppError(describeRequestError(err, 'accept the call'));
  }
  renderAll();
}

async function declineIncoming() {
  const callId = S.incomingCallId;
  if (callId == null) return;
  S.incomingCallId = null;
  S.dismissedIncoming.add(callId);
  renderAll();
  try {
    await S.client.decline(callId);
  } catch (err) {
    if (err?.code !== 'invalid_state') showAppError(describeRequestError(err, 'decline the call'));
  }
}

async function hangup() {
  const call = currentCall();
  const callId = call?.callId ?? S.currentCallId;
  if (callId == null) return;
  S.leavingCallId = callId;
  S.connectingCallId = null;
  renderAll();
  try {
    await S.client.hangup(callId);
  } catch (err) {
    S.leavingCallId = null;
    if (err?.code !== 'invalid_state' && err?.code !== 'not_participant') showAppError(describeRequestError(err, 'hang up'));
  }
  renderAll();
}

function closeCallPanel() {
  const call = currentCall();
  if (call && isLiveForMe(call)) return;
  if (call) S.dismissedIncoming.add(call.callId);
  S.currentCallId = null;
  S.connectingCallId = null;
  renderAll();
}

// ---------------------------------------------------------------------------------------------
// Chat
// ---------------------------------------------------------------------------------------------
function chatContextLabel(msg) {
  if (msg.callId != null) return `in call #${msg.callId}`;
  if (msg.from === myId()) return `to ${nameOf(msg.to)}`;
  return 'direct';
}

function onChat(msg) {
  if (msg.id == null) return;
  const clean = { ...msg };
  delete clean.type;
  // Confirmation of one of ours.
  if (clean.from === myId() && clean.clientMsgId && S.pending.has(clean.clientMsgId)) {
    const p = S.pending.get(clean.clientMsgId);
    p.el?.remove();
    S.pending.delete(clean.clientMsgId);
  }
  if (S.chatById.has(clean.id)) return;
  S.chatById.set(clean.id, clean);
  // Insert sorted by id (almost always at the end).
  let i = S.chatList.length;
  while (i > 0 && S.chatList[i - 1].id > clean.id) i--;
  S.chatList.splice(i, 0, clean);
  const node = createChatMessage(clean, { mine: clean.from === myId(), context: chatContextLabel(clean) });
  const next = S.chatList[i + 1];
  const nextEl = next ? dom.chatMessages.querySelector(`[data-testid="chat-message"][data-id="${next.id}"]`) : null;
  const stick = dom.chatMessages.scrollHeight - dom.chatMessages.scrollTop - dom.chatMessages.clientHeight < 40;
  if (nextEl) dom.chatMessages.insertBefore(node, nextEl);
  else {
    const firstPending = dom.chatMessages.querySelector('[data-testid="chat-pending"]');
    dom.chatMessages.insertBefore(node, firstPending);
  }
  if (stick) dom.chatMessages.scrollTop = dom.chatMessages.scrollHeight;
}

function chatTarget() {
  const call = currentCall();
  if (call && isLiveForMe(call)) return { callId: call.callId, label: `Everyone in call #${call.callId}` };
  const to = Number(dom.chatTo.value);
  if (Number.isFinite(to) && to > 0 && S.online.has(to)) return { to, label: `Direct message to ${nameOf(to)}` };
  return null;
}

function newClientMsgId() {
  const rnd = crypto.getRandomValues(new Uint32Array(2));
  return `c-${myId()}-${Date.now().toString(36)}-${rnd[0].toString(36)}${rnd[1].toString(36)}`.slice(0, Limits.maxClientMsgIdLength);
}

function sendPending(p) {
  p.status = 'sending';
  setPendingStatus(p, 'sending…');
  const req = p.callId != null
    ? S.client.sendChatToCall(p.callId, p.text, p.clientMsgId)
    : S.client.sendChatToUser(p.to, p.text, p.clientMsgId);
  req.then((ack) => {
    if (!S.pending.has(p.clientMsgId)) return; // the event came first
    p.status = 'sent';
    p.id = ack.id;
    if (ack.id != null && S.chatById.has(ack.id)) { p.el?.remove(); S.pending.delete(p.clientMsgId); return; }
    setPendingStatus(p, 'sent');
  }, (err) => {
    if (!S.pending.has(p.clientMsgId)) return;
    if (['not_connected', 'disconnected', 'timeout', 'unavailable', 'rate_limited'].includes(err?.code)) {
      p.status = 'retry';
      setPendingStatus(p, 'waiting for connection…');
      if (err.code === 'rate_limited' || err.code === 'unavailable' || (err.code === 'timeout' && S.client.isOpen)) {
        setTimeout(() => { if (S.pending.has(p.clientMsgId) && p.status === 'retry' && S.client.isOpen) sendPending(p); }, 2000);
      }
    } else {
      p.status = 'failed';
      p.el?.classList.add('failed');
      setPendingStatus(p, `not sent: ${err?.message ?? err?.code ?? 'error'}`);
    }
  });
}

function setPendingStatus(p, text) {
  const s = p.el?.querySelector('.chat-status');
  if (s) setText(s, text);
}

function resendPendingChat() {
  for (const p of S.pending.values()) if (p.status === 'retry' || p.status === 'sending') sendPending(p);
}

function onChatSubmit(ev) {
  ev.preventDefault();
  const text = dom.chatInput.value;
  if (!text.trim()) return;
  if (!isValidChatText(text)) { showAppError(`A message is 1–${Limits.maxChatTextLength} characters.`); return; }
  const target = chatTarget();
  if (!target) { showAppError('Choose someone to message, or start a call.'); return; }
  const p = { clientMsgId: newClientMsgId(), text, callId: target.callId ?? null, to: target.to ?? null, status: 'new', el: null };
  p.el = createPendingMessage(p, p.callId != null ? `in call #${p.callId}` : `to ${nameOf(p.to)}`);
  S.pending.set(p.clientMsgId, p);
  dom.chatMessages.append(p.el);
  dom.chatMessages.scrollTop = dom.chatMessages.scrollHeight;
  dom.chatInput.value = '';
  dom.chatInput.focus();
  sendPending(p);
}

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------
function renderConnection() {
  const state = S.client?.state ?? ConnectionState.SIGNED_OUT;
  setText(dom.connectionStatus, state);
  dom.conn.dataset.state = state;
}

function renderPresence() {
  const users = [...S.online.entries()].sort((a, b) => a[1].localeCompare(b[1]) || a[0] - b[0]);
  const cur = currentCall();
  const inCall = isLiveForMe(cur);
  const seen = new Set();
  let prev = null;
  for (const [userId, name] of users) {
    seen.add(userId);
    let li = dom.presenceList.querySelector(`:scope > [data-user-id="${userId}"]`);
    if (!li) {
      const btn = el('button', {
        type: 'button', className: 'btn btn-small', dataset: { testid: `call-user-${userId}` },
        onclick: () => startCall(userId),
      });
      li = el('li', { dataset: { testid: `presence-user-${userId}`, userId: String(userId) } },
        el('span', { className: 'presence-name' }), btn);
    }
    if (li.dataset.name !== name) {
      li.dataset.name = name;
      setText(li.querySelector('.presence-name'), name);
    }
    const btn = li.querySelector('button');
    const inThisCall = inCall && cur.participants.some((p) => p.userId === userId
      && (p.state === ParticipantState.JOINED || p.state === ParticipantState.INVITED));
    const label = inCall ? 'Add' : 'Call';
    setText(btn, label);
    btn.setAttribute('aria-label', `${label} ${name}`);
    btn.disabled = inThisCall;
    // Keep order without moving focused nodes unnecessarily.
    const expectedNext = prev ? prev.nextElementSibling : dom.presenceList.firstElementChild;
    if (expectedNext !== li) {
      if (prev) prev.after(li); else dom.presenceList.prepend(li);
    }
    prev = li;
  }
  for (const li of [...dom.presenceList.children]) {
    if (!seen.has(Number(li.dataset.userId))) li.remove();
  }
  show(dom.presenceEmpty, users.length === 0);
}

function renderIncoming() {
  const call = S.incomingCallId != null ? S.calls.get(S.incomingCallId) : null;
  if (!call) { show(dom.incoming, false); return; }
  const caller = call.participants?.find((p) => p.userId === call.createdBy);
  const others = (call.participants ?? []).filter((p) => p.userId !== myId() && p.userId !== call.createdBy
    && (p.state === ParticipantState.JOINED || p.state === ParticipantState.INVITED));
  const who = caller?.displayName ?? nameOf(call.createdBy);
  const extra = others.length ? ` (with ${others.map((p) => p.displayName).join(', ')})` : '';
  setText(dom.incomingText, `${who} is calling you${extra}.`);
  dom.incoming.dataset.callId = String(call.callId);
  const wasHidden = dom.incoming.hidden;
  show(dom.incoming, true);
  if (wasHidden && !dom.chatInput.matches(':focus') && !dom.signinName.matches(':focus')) dom.incomingAccept.focus();
}

function renderCall() {
  const call = currentCall();
  const visible = S.currentCallId != null;
  show(dom.callPanel, visible);
  if (!visible) {
    show(dom.hangup, false);
    show(dom.callClose, false);
    return;
  }
  const state = displayedCallState(call);
  setText(dom.callState, state);
  dom.callState.dataset.state = state;
  dom.callPanel.dataset.callId = String(S.currentCallId);

  const others = (call?.participants ?? []).filter((p) => p.userId !== myId());
  const joined = others.filter((p) => p.state === ParticipantState.JOINED).map((p) => p.displayName);
  const invited = others.filter((p) => p.state === ParticipantState.INVITED).map((p) => p.displayName);
  let title = 'Call';
  if (call) {
    const active = (call.participants ?? []).filter((p) => p.state === ParticipantState.JOINED || p.state === ParticipantState.INVITED);
    title = call.kind === 'group' ? `Group call (${active.length})` : `Call with ${others[0]?.displayName ?? '…'}`;
  }
  setText(dom.callTitle, title);
  const sub = [];
  if (joined.length) sub.push(`In call: ${joined.join(', ')}`);
  if (invited.length) sub.push(`Ringing: ${invited.join(', ')}`);
  setText(dom.callSubtitle, sub.join(' · '));

  const live = (call && isLiveForMe(call) && S.leavingCallId !== call.callId) || S.connectingCallId === S.currentCallId;
  const beingRung = call && myPart(call)?.state === ParticipantState.INVITED && !FINAL_CALL_STATES.has(call.state)
    && S.connectingCallId !== call.callId && !S.dismissedIncoming.has(call.callId);
  show(dom.hangup, !!live);
  show(dom.callClose, !live && !beingRung);

  // Add person: online users who are not joined or invited.
  const canAdd = call && isLiveForMe(call) && S.leavingCallId !== call.callId;
  const inCall = new Set((call?.participants ?? [])
    .filter((p) => p.state === ParticipantState.JOINED || p.state === ParticipantState.INVITED).map((p) => p.userId));
  const options = [...S.online.entries()].filter(([id]) => !inCall.has(id))
    .sort((a, b) => a[1].localeCompare(b[1])).map(([value, label]) => ({ value, label }));
  const full = inCall.size >= Limits.maxParticipants;
  syncSelect(dom.addPerson, options, 'Nobody else online');
  show(dom.callAdd, !!canAdd);
  dom.addPersonSubmit.disabled = full || options.length === 0;
  dom.addPerson.disabled = full || options.length === 0;
}

function renderControls() {
  const micOff = !S.mic.available || !S.mic.on;
  const camOff = !S.cam.available || !S.cam.on;
  dom.toggleMic.setAttribute('aria-pressed', String(micOff));
  dom.toggleCamera.setAttribute('aria-pressed', String(camOff));
  setText(dom.toggleMic.querySelector('.lbl'), micOff ? 'Unmute' : 'Mute');
  setText(dom.toggleCamera.querySelector('.lbl'), camOff ? 'Camera on' : 'Camera off');
  dom.toggleMic.title = S.mic.available ? (micOff ? 'Turn the microphone on' : 'Mute the microphone') : 'No microphone';
  dom.toggleCamera.title = S.cam.available ? (camOff ? 'Turn the camera on' : 'Turn the camera off') : 'No camera (click to retry)';
  show(dom.localCameraOff, camOff);
  show(dom.localMuted, micOff);
  dom.localTile.classList.toggle('camera-off', camOff);
}

function renderChatComposer() {
  const call = currentCall();
  const inCall = call && isLiveForMe(call);
  const options = [...S.online.entries()].sort((a, b) => a[1].localeCompare(b[1]))
    .map(([value, label]) => ({ value, label }));
  syncSelect(dom.chatTo, options, 'Nobody online');
  show(dom.chatToWrap, !inCall);
  const target = chatTarget();
  setText(dom.chatContext, target ? target.label : 'Start a call or pick someone to message.');
}

function renderAll() {
  if (!S.me) return;
  renderConnection();
  renderPresence();
  renderIncoming();
  renderCall();
  renderTiles();
  renderControls();
  renderChatComposer();
  syncMediaState();
}

// ---------------------------------------------------------------------------------------------
// Session lifecycle
// ---------------------------------------------------------------------------------------------
function resetSessionState() {
  S.online.clear();
  S.calls.clear();
  S.lastCall = null;
  S.currentCallId = null;
  S.connectingCallId = null;
  S.leavingCallId = null;
  S.incomingCallId = null;
  S.dismissedIncoming.clear();
  S.chatById.clear();
  S.chatList.length = 0;
  S.pending.clear();
  S.mediaStateSent.clear();
  dom.chatMessages.replaceChildren();
  for (const id of [...S.tiles.keys()]) removeTile(id);
}

function showSignIn(reason) {
  show(dom.mainView, false);
  show(dom.me, false);
  show(dom.signinView, true);
  const ready = !!S.client;
  show(dom.signinLoading, !ready);
  show(dom.signinForm, ready);
  setText(dom.signinError, reason ?? '');
  show(dom.signinError, !!reason);
  dom.signinSubmit.disabled = !ready;
  renderConnection();
  if (ready) dom.signinName.focus();
}

function showMain() {
  show(dom.signinView, false);
  show(dom.mainView, true);
  show(dom.me, true);
  setText(dom.meName, S.me.displayName);
  startMedia();
  renderAll();
}

function onHello(hello) {
  const me = hello.user ?? { userId: S.client.userId, displayName: S.client.displayName };
  S.me = { userId: me.userId, displayName: me.displayName };
  setText(dom.meName, S.me.displayName);
  S.online.clear();
  for (const u of hello.online ?? []) if (u.userId !== S.me.userId) S.online.set(u.userId, u.displayName);

  // Calls: the snapshot holds my ringing/active calls; anything else we thought live has finished.
  const inSnapshot = new Set();
  for (const call of hello.calls ?? []) {
    inSnapshot.add(call.callId);
    const existing = S.calls.get(call.callId);
    if (!existing || existing._synthetic || call.version >= existing.version) {
      const { type, ...rest } = call; // eslint-disable-line no-unused-vars
      S.calls.set(call.callId, rest);
      S.lastCall = rest;
    }
  }
  for (const [callId, call] of S.calls) {
    if (!inSnapshot.has(callId) && !FINAL_CALL_STATES.has(call.state)) {
      const me2 = myPart(call);
      const finished = {
        ...call, _synthetic: true,
        state: call.state === CallState.RINGING && me2?.state === ParticipantState.INVITED ? CallState.MISSED : CallState.ENDED,
      };
      S.calls.set(callId, finished);
    }
  }
  if (S.connectingCallId != null && !inSnapshot.has(S.connectingCallId)) S.connectingCallId = null;
  if (S.leavingCallId != null && !inSnapshot.has(S.leavingCallId)) S.leavingCallId = null;
  for (const call of hello.calls ?? []) onCallChanged(S.calls.get(call.callId));
  if (S.incomingCallId != null && !inSnapshot.has(S.incomingCallId)) S.incomingCallId = null;
  S.mediaStateSent.clear();

  for (const msg of hello.chat ?? []) onChat(msg);
  resendPendingChat();
  showMain();
}

function onPresence(msg) {
  if (msg.userId === myId()) return;
  if (msg.online) S.online.set(msg.userId, msg.displayName ?? nameOf(msg.userId));
  else S.online.delete(msg.userId);
  renderAll();
}

function setupClient(relayUrl) {
  const client = new RelayClient(relayUrl);
  S.client = client;
  client.on('state', () => { renderConnection(); if (S.me) renderAll(); });
  client.on('hello', onHello);
  client.on('presence', onPresence);
  client.on('call', onCallEvent);
  client.on('chat', onChat);
  client.on('media', onMedia);
  // Errors without a request: about media frames (e.g. frames in flight after a hang-up). Log only.
  client.on('error', (msg) => { console.warn(`relay error ${msg.code}: ${msg.message ?? ''}`); });
  client.on('signed-out', ({ reason }) => {
    resetSessionState();
    S.me = null;
    showSignIn(reason);
  });
  return client;
}

async function onSignInSubmit(ev) {
  ev.preventDefault();
  ensureAudioContext();
  const v = validateDisplayName(dom.signinName.value);
  if (!v.ok) { setText(dom.signinError, v.error); show(dom.signinError, true); return; }
  if (!S.client) { setText(dom.signinError, 'Still loading the configuration…'); show(dom.signinError, true); return; }
  dom.signinSubmit.disabled = true;
  show(dom.signinError, false);
  try {
    const session = await S.client.signIn(v.value);
    resetSessionState();
    S.me = { userId: session.userId, displayName: session.displayName };
    S.client.connect();
    showMain();
  } catch (err) {
    setText(dom.signinError, err.message);
    show(dom.signinError, true);
  } finally {
    dom.signinSubmit.disabled = false;
  }
}

async function loadConfig() {
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await fetch('config.json', { cache: 'no-store' });
      if (res.ok) {
        const cfg = await res.json();
        if (cfg?.relayUrl) return cfg;
      }
    } catch { /* retry */ }
    showAppError('Cannot load the configuration; retrying…', 0);
    setText(dom.signinLoading, 'Cannot load the configuration; retrying…');
    await new Promise((r) => setTimeout(r, Math.min(5000, 500 * 2 ** attempt)));
  }
}

// ---------------------------------------------------------------------------------------------
// Test / debugging hooks
// ---------------------------------------------------------------------------------------------
function installHooks() {
  window.pgvc = {
    get userId() { return S.me?.userId ?? S.client?.userId ?? null; },
    get displayName() { return S.me?.displayName ?? S.client?.displayName ?? null; },
    get connectionState() { return S.client?.state ?? ConnectionState.SIGNED_OUT; },
    get currentCall() { return currentCall() ?? S.lastCall; },
    get calls() { return S.calls; },
    get chatMessages() { return S.chatList; },
    get client() { return S.client; },
    get localFramesSent() { return S.videoCapture?.framesSent ?? 0; },
    get localAudioFramesSent() { return S.audioCapture?.framesSent ?? 0; },
    get media() {
      return {
        micAvailable: S.mic.available, micOn: S.mic.on, camAvailable: S.cam.available, camOn: S.cam.on,
        audioContextState: S.audioCtx?.state ?? null, sampleRate: S.audioCtx?.sampleRate ?? null,
      };
    },
    stats(userId) {
      const s = S.stats.get(Number(userId));
      return s ? s.snapshot() : {
        fps: 0, latencyMsP50: null, kbps: 0, framesReceived: 0, framesDropped: 0, lastFrameAt: null,
      };
    },
    audioLevel(userId) { return S.playback?.level(Number(userId)) ?? null; },
    pixel(userId, x, y) { return S.tiles.get(Number(userId))?.renderer.pixel(x, y) ?? null; },
  };
}

// ---------------------------------------------------------------------------------------------
// Boot
// ---------------------------------------------------------------------------------------------
function bindDom() {
  const ids = {
    conn: 'conn', connectionStatus: 'connection-status', me: 'me', meName: 'me-name', signout: 'signout',
    signinView: 'signin-view', signinForm: 'signin-form', signinName: 'signin-name', signinSubmit: 'signin-submit',
    signinError: 'signin-error', signinLoading: 'signin-loading', mainView: 'main-view', presenceList: 'presence-list', presenceEmpty: 'presence-empty',
    mediaError: 'media-error', appError: 'app-error', incoming: 'incoming-call', incomingText: 'incoming-text',
    incomingAccept: 'incoming-accept', incomingDecline: 'incoming-decline', callPanel: 'call-panel',
    callTitle: 'call-title', callSubtitle: 'call-subtitle', callState: 'call-state', callAdd: 'call-add',
    addPerson: 'add-person', addPersonSubmit: 'add-person-submit', tiles: 'tiles', localTile: 'local-tile',
    localVideo: 'local-video', localCameraOff: 'local-camera-off', localMuted: 'local-muted',
    toggleMic: 'toggle-mic', toggleCamera: 'toggle-camera', hangup: 'hangup', callClose: 'call-close',
    chatMessages: 'chat-messages', chatForm: 'chat-form', chatTo: 'chat-to', chatToWrap: 'chat-to-wrap',
    chatInput: 'chat-input', chatContext: 'chat-context',
    settingResolution: 'setting-resolution', settingQuality: 'setting-quality', settingFps: 'setting-fps',
  };
  for (const [k, id] of Object.entries(ids)) {
    dom[k] = $(id);
    if (!dom[k]) console.error(`missing element #${id}`);
  }
}

function bindEvents() {
  dom.signinForm.addEventListener('submit', onSignInSubmit);
  dom.signout.addEventListener('click', () => { S.client?.signOut(); });
  dom.incomingAccept.addEventListener('click', acceptIncoming);
  dom.incomingDecline.addEventListener('click', declineIncoming);
  dom.hangup.addEventListener('click', hangup);
  dom.callClose.addEventListener('click', closeCallPanel);
  dom.addPersonSubmit.addEventListener('click', () => {
    const call = currentCall();
    const userId = Number(dom.addPerson.value);
    if (call && Number.isFinite(userId) && userId > 0) addToCall(call.callId, userId);
  });
  dom.toggleMic.addEventListener('click', () => {
    ensureAudioContext();
    if (!S.mic.available) {
      getMedia({ audio: { ...AUDIO_CONSTRAINTS } }).then(
        (s) => { S.mic.on = true; return attachAudioTrack(s.getAudioTracks()[0] ?? null, null); },
        (e) => attachAudioTrack(null, e));
      return;
    }
    S.mic.on = !S.mic.on;
    S.audioCapture?.setEnabled(S.mic.on);
    renderControls();
    syncMediaState();
  });
  dom.toggleCamera.addEventListener('click', () => {
    if (!S.cam.available) {
      getMedia({ video: videoConstraints() }).then(
        (s) => { S.cam.on = true; return attachVideoTrack(s.getVideoTracks()[0] ?? null, null); },
        (e) => attachVideoTrack(null, e));
      return;
    }
    S.cam.on = !S.cam.on;
    S.videoCapture?.setEnabled(S.cam.on);
    renderControls();
    syncMediaState();
  });
  dom.chatForm.addEventListener('submit', onChatSubmit);
  dom.chatTo.addEventListener('change', renderChatComposer);

  // Settings.
  const resOptions = RESOLUTIONS.map((r) => ({ value: `${r.width}x${r.height}`, label: r.label }));
  const curRes = `${S.settings.width}x${S.settings.height}`;
  if (!resOptions.some((o) => o.value === curRes)) resOptions.push({ value: curRes, label: curRes.replace('x', '×') });
  syncSelect(dom.settingResolution, resOptions);
  dom.settingResolution.value = curRes;
  const qOptions = [...new Set([...QUALITIES, S.settings.quality])].sort().map((q) => ({ value: q, label: `${Math.round(q * 100)} %` }));
  syncSelect(dom.settingQuality, qOptions);
  dom.settingQuality.value = String(S.settings.quality);
  const fpsOptions = [...new Set([5, 10, 15, 24, 30, S.settings.fps])].sort((a, b) => a - b).map((f) => ({ value: f, label: `${f} fps` }));
  syncSelect(dom.settingFps, fpsOptions);
  dom.settingFps.value = String(S.settings.fps);
  dom.settingResolution.addEventListener('change', () => {
    const [w, h] = dom.settingResolution.value.split('x').map(Number);
    S.settings.width = w; S.settings.height = h;
    S.videoCapture?.setResolution(w, h);
  });
  dom.settingQuality.addEventListener('change', () => {
    S.settings.quality = Number(dom.settingQuality.value);
    S.videoCapture?.setQuality(S.settings.quality);
  });
  dom.settingFps.addEventListener('change', () => {
    S.settings.fps = Number(dom.settingFps.value);
    S.videoCapture?.setFps(S.settings.fps);
  });

  // Audio needs a user gesture in ordinary browsers.
  const resume = () => { if (S.audioCtx?.state === 'suspended') S.audioCtx.resume().catch(() => {}); };
  document.addEventListener('pointerdown', resume, { capture: true });
  document.addEventListener('keydown', resume, { capture: true });
  window.addEventListener('pagehide', () => { S.videoCapture?.stop(); });
}

async function main() {
  bindDom();
  installHooks();
  bindEvents();
  setInterval(renderStatsOverlays, 1000);

  const existing = RelayClient.loadSession();
  if (!existing) showSignIn(null);
  else {
    setText(dom.connectionStatus, ConnectionState.CONNECTING);
    // Reload: same user, straight to the main view.
    S.me = { userId: existing.userId, displayName: existing.displayName };
    show(dom.signinView, false);
  }
  const cfg = await loadConfig();
  show(dom.appError, false);
  const client = setupClient(cfg.relayUrl);
  if (existing && client.session) {
    client.connect();
    showMain();
  } else {
    showSignIn(null);
  }
}

main().catch((err) => {
  console.error(err);
  showAppError(`The app failed to start: ${err.message}`, 0);
});
