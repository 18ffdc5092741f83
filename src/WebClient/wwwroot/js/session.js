// The session: loading the relay configuration, sign-in/sign-out, switching between the sign-in and main
// views, and rebuilding state from the relay's hello after every (re)connect.
import { validateDisplayName } from './protocol.js';
import { ConnectionState } from './relay-client.js';
import { setText, show } from './ui.js';
import { applyCallSnapshot } from './call-state.js';

export function createSession(ctx) {
  const { state, dom } = ctx;

  function renderConnection() {
    const connection = state.client?.state ?? ConnectionState.SIGNED_OUT;
    setText(dom.connectionStatus, connection);
    dom.conn.dataset.state = connection;
  }

  /** Another user may sign in on this page next, so nothing of the previous session may leak into it. */
  function resetSessionState() {
    state.online.clear();
    state.calls.clear();
    state.lastCall = null;
    state.currentCallId = null;
    state.connectingCallId = null;
    state.leavingCallId = null;
    state.incomingCallId = null;
    state.dismissedIncoming.clear();
    state.chatById.clear();
    state.chatList.length = 0;
    state.pending.clear();
    state.mediaStateSent.clear();
    dom.chatMessages.replaceChildren();
    ctx.remote.removeAllTiles();
    ctx.recordings.reset();
  }

  function showSignIn(reason) {
    show(dom.mainView, false);
    show(dom.me, false);
    show(dom.signinView, true);
    const ready = !!state.client;
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
    setText(dom.meName, state.me.displayName);
    ctx.media.startMedia();
    ctx.renderAll();
  }

  function onHello(hello) {
    const me = hello.user ?? { userId: state.client.userId, displayName: state.client.displayName };
    state.me = { userId: me.userId, displayName: me.displayName };
    setText(dom.meName, state.me.displayName);
    ctx.presence.applySnapshot(hello.online ?? []);
    applyCallSnapshot(state, hello.calls ?? []);
    // Flags sent before the reconnect may never have reached the relay: compare afresh.
    state.mediaStateSent.clear();

    for (const msg of hello.chat ?? []) ctx.chat.onChat(msg);
    ctx.chat.resendPending();
    showMain();
  }

  function onSignedOut({ reason }) {
    resetSessionState();
    state.me = null;
    showSignIn(reason);
  }

  async function onSignInSubmit(ev) {
    ev.preventDefault();
    // The submit click is a user gesture: create the audio context now so playback is allowed later.
    ctx.media.ensureAudioContext();
    const v = validateDisplayName(dom.signinName.value);
    if (!v.ok) { setText(dom.signinError, v.error); show(dom.signinError, true); return; }
    if (!state.client) { setText(dom.signinError, 'Still loading the configuration…'); show(dom.signinError, true); return; }
    dom.signinSubmit.disabled = true;
    show(dom.signinError, false);
    try {
      const session = await state.client.signIn(v.value);
      resetSessionState();
      state.me = { userId: session.userId, displayName: session.displayName };
      state.client.connect();
      showMain();
    } catch (err) {
      setText(dom.signinError, err.message);
      show(dom.signinError, true);
    } finally {
      dom.signinSubmit.disabled = false;
    }
  }

  /** Retries forever with backoff: the web client may come up before its configuration is served. */
  async function loadConfig() {
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await fetch('config.json', { cache: 'no-store' });
        if (res.ok) {
          const cfg = await res.json();
          if (cfg?.relayUrl) return cfg;
        }
      } catch { /* retry */ }
      ctx.notices.showAppError('Cannot load the configuration; retrying…', 0);
      setText(dom.signinLoading, 'Cannot load the configuration; retrying…');
      await new Promise((r) => setTimeout(r, Math.min(5000, 500 * 2 ** attempt)));
    }
  }

  function bind() {
    dom.signinForm.addEventListener('submit', onSignInSubmit);
    dom.signout.addEventListener('click', () => { state.client?.signOut(); });
  }

  return { renderConnection, showSignIn, showMain, onHello, onSignedOut, loadConfig, bind };
}
