// One WebSocket to the relay with automatic reconnect, request/response by rid, events.
import {
  CloseCode, MessageType, decodeControl, decodeMediaFrame, encodeControl, Limits, Requests,
} from './protocol.js';
import { Emitter } from './emitter.js';
import { PendingRequests, RequestError } from './pending-requests.js';
import { reconnectDelay } from './reconnect-backoff.js';
import * as sessionApi from './session-api.js';

export { RequestError } from './pending-requests.js';
export { SignInError } from './session-api.js';

/** Connection states shown to the user (and to tests) verbatim. */
export const ConnectionState = Object.freeze({
  CONNECTING: 'connecting',
  CONNECTED: 'connected',
  RECONNECTING: 'reconnecting',
  SIGNED_OUT: 'signed-out',
});

function toWebSocketUrl(httpUrl) {
  const u = new URL(httpUrl);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return u;
}

/**
 * The relay client. Events: `state` (ConnectionState), `hello`, `presence`, `call`, `chat`, `media.quality`,
 * `media` (decoded frame), `error` (unsolicited relay error), `signed-out` ({reason}), `close` ({code, reason}).
 */
export class RelayClient extends Emitter {
  constructor(relayUrl, options = {}) {
    super();
    this.relayUrl = String(relayUrl).replace(/\/+$/, '');
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10000;
    this.backoffBaseMs = options.backoffBaseMs ?? 500;
    // A relay restart takes seconds: a low cap keeps clients from sleeping long after it is back.
    this.backoffMaxMs = options.backoffMaxMs ?? 4000;
    this.pingIntervalMs = options.pingIntervalMs ?? 15000;
    this.maxBufferedVideoBytes = options.maxBufferedVideoBytes ?? 512 * 1024;
    this.maxBufferedAudioBytes = options.maxBufferedAudioBytes ?? 2 * 1024 * 1024;

    this.session = RelayClient.loadSession();
    this.state = ConnectionState.SIGNED_OUT;
    this.ws = null;
    this.hello = null;
    this.limits = { ...Limits };
    this.attempt = 0;
    this.everConnected = false;
    this.lastClose = null;
    this.counters = { framesSent: 0, framesDroppedBackpressure: 0, reconnects: 0, bytesSent: 0 };

    this._pending = new PendingRequests();
    this._reconnectTimer = null;
    this._pingTimer = null;
    this._refreshTimer = null;
    this._wantConnected = false;

    this._onOnline = () => { if (this._wantConnected && this.state === ConnectionState.RECONNECTING) this._reconnectNow(); };
    window.addEventListener('online', this._onOnline);
  }

  static loadSession() { return sessionApi.loadSession(); }

  get userId() { return this.session?.userId ?? null; }
  get displayName() { return this.session?.displayName ?? null; }
  get isOpen() { return this.ws?.readyState === WebSocket.OPEN && this.hello !== null; }

  _saveSession(s) {
    this.session = s;
    sessionApi.storeSession(s);
  }

  _setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.emit('state', state);
  }

  /** POST /api/sessions. Stores the session; does not connect. */
  async signIn(displayName) {
    const session = await sessionApi.signIn(this.relayUrl, displayName);
    this._saveSession(session);
    return session;
  }

  /** POST /api/sessions/refresh with the current token. */
  async refresh() {
    if (!this.session) return null;
    const renewed = await sessionApi.refresh(this.relayUrl, this.session);
    if (!renewed) return null;
    this._saveSession(renewed);
    this._scheduleRefresh();
    return this.session;
  }

  _scheduleRefresh() {
    clearTimeout(this._refreshTimer);
    this._refreshTimer = null;
    const delay = sessionApi.refreshDelay(this.session?.expiresAt);
    if (delay !== null) this._refreshTimer = setTimeout(() => { this.refresh(); }, delay);
  }

  /** Open the socket (and keep it open) with the stored token. */
  connect() {
    if (!this.session) { this._setState(ConnectionState.SIGNED_OUT); return; }
    this._wantConnected = true;
    this._scheduleRefresh();
    this._open();
  }

  _open() {
    clearTimeout(this._reconnectTimer);
    this._reconnectTimer = null;
    if (!this.session) return;
    this._setState(this.everConnected ? ConnectionState.RECONNECTING : ConnectionState.CONNECTING);
    const url = toWebSocketUrl(`${this.relayUrl}/ws`);
    url.searchParams.set('access_token', this.session.token);
    let ws;
    try {
      ws = new WebSocket(url.toString());
    } catch (err) {
      console.warn('WebSocket construction failed', err);
      this._scheduleReconnect();
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    this.hello = null;
    ws.onmessage = (ev) => this._onMessage(ws, ev);
    ws.onclose = (ev) => this._onClose(ws, ev.code, ev.reason);
    ws.onerror = () => { /* onclose follows */ };
  }

  _onMessage(ws, ev) {
    if (ws !== this.ws) return;
    if (typeof ev.data === 'string') {
      const msg = decodeControl(ev.data);
      if (!msg) { console.warn('unparseable control message'); return; }
      this._onControl(msg);
    } else if (ev.data instanceof ArrayBuffer) {
      const frame = decodeMediaFrame(ev.data);
      if (frame) this.emit('media', frame);
    }
  }

  _onControl(msg) {
    switch (msg.type) {
      case MessageType.HELLO: {
        this.hello = msg;
        if (msg.limits && typeof msg.limits === 'object') this.limits = { ...Limits, ...msg.limits };
        if (msg.user && this.session) {
          const { userId, displayName } = msg.user;
          if (userId !== this.session.userId || displayName !== this.session.displayName) {
            this._saveSession({ ...this.session, userId, displayName });
          }
        }
        if (this.everConnected) this.counters.reconnects++;
        this.everConnected = true;
        this.attempt = 0;
        this._setState(ConnectionState.CONNECTED);
        this._startPing();
        this.emit('hello', msg);
        break;
      }
      case MessageType.ACK:
      case MessageType.ERROR: {
        if (!this._pending.settle(msg) && msg.type === MessageType.ERROR) this.emit('error', msg);
        break;
      }
      case MessageType.PRESENCE:
      case MessageType.CALL:
      case MessageType.CHAT:
      case MessageType.MEDIA_QUALITY:
        this.emit(msg.type, msg);
        break;
      default:
        this.emit('unknown', msg);
    }
  }

  _onClose(ws, code, reason) {
    if (ws !== this.ws) return;
    this.ws = null;
    this.hello = null;
    this._stopPing();
    this.lastClose = { code, reason, at: Date.now() };
    this._rejectAll('disconnected');
    this.emit('close', { code, reason });
    if (code === CloseCode.UNAUTHORIZED) {
      this._signedOut('Your session is no longer valid. Please sign in again.');
      return;
    }
    if (!this._wantConnected) { this._setState(ConnectionState.SIGNED_OUT); return; }
    // 1001/1006/1011/4408/4503/network loss: backoff. 4429: back off longer. 4400/4413: reconnect too.
    const minDelay = code === CloseCode.FLOODING ? 5000 : 0;
    this._scheduleReconnect(minDelay);
  }

  _scheduleReconnect(minDelayMs = 0) {
    this._setState(ConnectionState.RECONNECTING);
    clearTimeout(this._reconnectTimer);
    const delay = Math.max(minDelayMs, reconnectDelay(this.attempt, { baseMs: this.backoffBaseMs, maxMs: this.backoffMaxMs }));
    this.attempt++;
    this._reconnectTimer = setTimeout(() => this._open(), delay);
  }

  _reconnectNow() {
    clearTimeout(this._reconnectTimer);
    this._open();
  }

  /** Drop a socket we believe dead without waiting for the closing handshake. */
  _dropSocket(reason) {
    const ws = this.ws;
    if (!ws) return;
    this.ws = null;
    this.hello = null;
    this._stopPing();
    ws.onmessage = null; ws.onclose = null; ws.onerror = null;
    try { ws.close(4000, reason); } catch { /* ignore */ }
    this._rejectAll('disconnected');
    this.lastClose = { code: 1006, reason, at: Date.now() };
    this.emit('close', { code: 1006, reason });
    if (this._wantConnected) this._scheduleReconnect();
  }

  _startPing() {
    this._stopPing();
    this._pingTimer = setInterval(() => {
      if (!this.isOpen) return;
      this.request(Requests.ping(), this.requestTimeoutMs).catch((err) => {
        if (err?.code === 'timeout') this._dropSocket('ping timeout');
      });
    }, this.pingIntervalMs);
  }

  _stopPing() { clearInterval(this._pingTimer); this._pingTimer = null; }

  _rejectAll(code) { this._pending.rejectAll(code); }

  _signedOut(reason) {
    this._wantConnected = false;
    clearTimeout(this._reconnectTimer);
    clearTimeout(this._refreshTimer);
    this._saveSession(null);
    this._setState(ConnectionState.SIGNED_OUT);
    this.emit('signed-out', { reason });
  }

  /** Close the socket and forget the token; `reason` is shown on the sign-in form (e.g. the HTTP API answered 401). */
  signOut(reason = null) {
    const ws = this.ws;
    this._wantConnected = false;
    this.ws = null;
    this.hello = null;
    this._stopPing();
    this._rejectAll('signed-out');
    if (ws) {
      ws.onmessage = null; ws.onclose = null; ws.onerror = null;
      try { ws.close(1000, 'sign out'); } catch { /* ignore */ }
    }
    this._signedOut(reason);
  }

  /**
   * Send a request; resolves with the `ack`, rejects with RequestError (relay `error`, `timeout`,
   * `not_connected`, `disconnected`).
   */
  request(message, timeoutMs = this.requestTimeoutMs) {
    if (!this.isOpen) return Promise.reject(new RequestError('not_connected', 'not connected'));
    const rid = this._pending.nextRid();
    const text = encodeControl({ ...message, rid });
    if (new TextEncoder().encode(text).byteLength > this.limits.maxTextMessageBytes) {
      return Promise.reject(new RequestError('too_large', 'message too large'));
    }
    const ws = this.ws;
    return this._pending.track(rid, message.type, timeoutMs, () => ws.send(text));
  }

  /** Send a binary media frame (fire and forget). Drops it when the socket is backed up. */
  sendMedia(buffer, isVideo) {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN || this.hello === null) return false;
    const limit = isVideo ? this.maxBufferedVideoBytes : this.maxBufferedAudioBytes;
    if (ws.bufferedAmount > limit) { this.counters.framesDroppedBackpressure++; return false; }
    ws.send(buffer);
    this.counters.framesSent++;
    this.counters.bytesSent += buffer.byteLength;
    return true;
  }

  // Convenience wrappers.
  invite(to) { return this.request(Requests.invite(to)); }
  addToCall(callId, userId) { return this.request(Requests.add(callId, userId)); }
  accept(callId) { return this.request(Requests.accept(callId)); }
  decline(callId) { return this.request(Requests.decline(callId)); }
  hangup(callId) { return this.request(Requests.hangup(callId)); }
  recordStart(callId) { return this.request(Requests.recordStart(callId)); }
  recordStop(callId) { return this.request(Requests.recordStop(callId)); }
  mediaState(callId, audio, video) { return this.request(Requests.mediaState(callId, audio, video)); }
  sendChatToCall(callId, text, clientMsgId) { return this.request(Requests.chatToCall(callId, text, clientMsgId)); }
  sendChatToUser(userId, text, clientMsgId) { return this.request(Requests.chatToUser(userId, text, clientMsgId)); }
}
