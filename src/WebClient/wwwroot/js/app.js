// PgVideoChat browser client, composition root: owns the page state and wires the relay client, media and
// UI modules together. Every module gets the same ctx and reaches the others through it when called, so
// the order they are created in does not matter even though they call each other (calls ⇄ renderAll).
import { ConnectionState, RelayClient } from './relay-client.js';
import { setText, show } from './ui.js';
import { bindDom } from './dom.js';
import { createNotices } from './notices.js';
import { readSettings, bindSettings } from './settings.js';
import { QualityAdvice } from './quality-advice.js';
import { createMediaSession } from './media-session.js';
import { createRemoteMedia } from './remote-media.js';
import { createCalls } from './calls.js';
import { createChat } from './chat.js';
import { createPresence } from './presence.js';
import { createSession } from './session.js';
import { createRecordingsApi } from './recordings-api.js';
import { createRecordings } from './recordings.js';
import { createReplayPlayer } from './replay-player.js';
import { installTestHooks } from './test-hooks.js';

const state = {
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
  settings: readSettings(location.search),
  qualityAdvice: new QualityAdvice(), // what the relays asked our video to stay under (media.quality)
  qualityStep: null,           // the step applied to the active call's video, with its reason
  recordingRequest: false,     // a call.record.start/stop in flight
  recordingsOpen: false,       // the recordings view is shown instead of the call view
};

const dom = {};
const ctx = { state, dom, renderAll };
ctx.notices = createNotices(dom);
ctx.media = createMediaSession(ctx);
ctx.remote = createRemoteMedia(ctx);
ctx.calls = createCalls(ctx);
ctx.chat = createChat(ctx);
ctx.presence = createPresence(ctx);
ctx.session = createSession(ctx);
// Read at every request: the client exists once the configuration is loaded, and its token is refreshed meanwhile.
ctx.recordingsApi = createRecordingsApi(() => ({ relayUrl: state.client?.relayUrl ?? '', token: state.client?.session?.token ?? null }));
ctx.recordings = createRecordings(ctx);
ctx.replay = createReplayPlayer(ctx);

/** Every render is idempotent and keyed, so any state change simply re-renders everything. */
function renderAll() {
  if (!state.me) return;
  ctx.session.renderConnection();
  ctx.presence.render();
  ctx.calls.renderIncoming();
  ctx.calls.renderCall();
  ctx.remote.renderTiles();
  ctx.media.renderControls();
  ctx.recordings.render();
  ctx.chat.renderComposer();
  ctx.media.syncMediaState();
}

function setupClient(relayUrl) {
  const client = new RelayClient(relayUrl);
  state.client = client;
  client.on('state', () => { ctx.session.renderConnection(); if (state.me) renderAll(); });
  client.on('hello', ctx.session.onHello);
  client.on('presence', ctx.presence.onPresence);
  client.on('call', ctx.calls.onCallEvent);
  client.on('chat', ctx.chat.onChat);
  client.on('media', ctx.remote.onMedia);
  client.on('media.quality', ctx.media.onQuality);
  // Errors without a request: about media frames (e.g. frames in flight after a hang-up). Log only.
  client.on('error', (msg) => { console.warn(`relay error ${msg.code}: ${msg.message ?? ''}`); });
  client.on('signed-out', ctx.session.onSignedOut);
  return client;
}

async function main() {
  bindDom(dom);
  installTestHooks(state, ctx);
  ctx.session.bind();
  ctx.calls.bind();
  ctx.media.bind();
  ctx.chat.bind();
  ctx.recordings.bind();
  ctx.replay.bind();
  bindSettings(dom, state.settings, ctx.media.applyVideoSettings);
  setInterval(ctx.remote.renderStatsOverlays, 1000);
  setInterval(ctx.media.refreshQuality, 5000); // a relay's advice expires when it stops repeating it

  const existing = RelayClient.loadSession();
  if (!existing) ctx.session.showSignIn(null);
  else {
    setText(dom.connectionStatus, ConnectionState.CONNECTING);
    // Reload: same user, straight to the main view.
    state.me = { userId: existing.userId, displayName: existing.displayName };
    show(dom.signinView, false);
  }
  const cfg = await ctx.session.loadConfig();
  show(dom.appError, false);
  const client = setupClient(cfg.relayUrl);
  if (existing && client.session) {
    client.connect();
    ctx.session.showMain();
  } else {
    ctx.session.showSignIn(null);
  }
}

main().catch((err) => {
  console.error(err);
  ctx.notices.showAppError(`The app failed to start: ${err.message}`, 0);
});
