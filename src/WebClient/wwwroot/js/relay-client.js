// Sign-in, one WebSocket with automatic reconnect, request/response by rid, events.
import {
  CloseCode, MessageType, decodeControl, decodeMediaFrame, encodeControl, Limits, Requests,
} from './protocol.js';

const SESSION_KEY = 'pgvc.session';

/** Connection states shown to the user (and to tests) verbatim. */
export const ConnectionState = Object.freeze({
  CONNECTING: 'connecting',
  CONNECTED: 'connected',
  RECONNECTING: 'reconnecting',
  SIGNED_OUT: 'signed-out',
});

/** Tiny event emitter. */
export class Emitter {
  #handlers = new Map();
  on(type, fn) {
    let set = this.#handlers.get(type);
    if (!set) this.#handlers.set(type, (set = new Set()));
    set.add(fn);
    return () => set.delete(fn);
  }
  off(type, fn) { this.#handlers.get(type)?.delete(fn); }
  emit(type, payload) {
    const set = this.#handlers.get(type);
    if (!set) return;
    for (const fn of [...set]) {
      try { fn(payload); } catch (err) { console.error(`handler for ${type} failed`, err); }
    }
  }
}

export class RequestError extends Error {
  constructor(code, message, response) {
    super(message || code);
    this.name = 'RequestError';
    this.code = code;
    this.response = response;
  }
}

export class SignInError extends Error {
  constructor(message, status, problem) {
    super(message);
    this.name = 'SignInError';
    this.status = status;
    this.problem = problem;
  }
}

function toWebSocketUrl(httpUrl) {
  const u = new URL(httpUrl);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return u;
}

function problemMessage(problem, status) {
  if (!problem || typeof problem !== 'object') return `Sign-in failed (HTTP ${status}).`;
  const parts = [];
  if (problem.errors && typeof problem.errors === 'object') {
    for (const list of Object.values(problem.errors)) {
      if (Array.isArray(list)) parts.push(...list.map(String));
    }
  }
  if (parts.length) return parts.join(' ');
  return problem.detail || problem.title || `Sign-in failed (HTTP ${status}).`;
}

/**
 * The relay client. Events: `state` (ConnectionState), `hello`, `presence`, `call`, `chat`,
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

    this._pending = new Map(); // rid -> {resolve, reject, timer}
    this._ridPrefix = Math.random().toString(36).slice(2, 8);
    this._ridCounter = 0;
    this._reconnectTimer = null;
    this._pingTimer = null;
    this._refreshTimer = null;
    this._wantConnected = false;

    this._onOnline = () => { if (this._wantConnected && this.state === ConnectionState.RECONNECTING) this._reconnectNow(); };
    window.addEventListener('online', this._onOnline);
  }

  static loadSession() {
    try {
      const raw = sessionStorage.getItem(SESSION_KEY);
      if (!raw) return null;
      const s = JSON.parse(raw);
      if (!s || typeof s.token !== 'string') return null;
      if (s.expiresAt && Date.parse(s.expiresAt) < Date.now()) return null;
      return s;
    } catch { return null; }
  }

  get userId() { return this.session?.userId ?? null; }
  get displayName() { return this.session?.displayName ?? null; }
  get isOpen() { return this.ws?.readyState === WebSocket.OPEN && this.hello !== null; }

  _saveSession(s) {
    this.session = s;
    try {
      if (s) sessionStorage.setItem(SESSION_KEY, JSON.stringify(s));
      else sessionStorage.removeItem(SESSION_KEY);
    } catch { /* storage unavailable: keep in memory */ }
  }

  _setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.emit('state', state);
  }

  /** POST /api/sessions. Stores the session; does not connect. */
  async signIn(displayName) {
    let res;
    try {
      res = await fetch(`${this.relayUrl}/api/sessions`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json, application/problem+json' },
        body: JSON.stringify({ displayName }),
        mode: 'cors',
      });
    } catch (err) {
      throw new SignInError(`Cannot reach the relay (${err.message}).`, 0, null);
    }
    let body = null;
    try { body = await res.json(); } catch { /* not JSON */ }
    if (!res.ok || !body || typeof body.token !== 'string') {
      throw new SignInError(problemMessage(body, res.status), res.status, body);
    }
    const session = {
      userId: body.userId, displayName: body.displayName, token: body.token, expiresAt: body.expiresAt ?? null,
    };
    this._saveSession(session);
    return session;
  }

  /** POST /api/sessions/refresh with the current token. */
  async refresh() {
    if (!this.session) return null;
    try {
      const res = await fetch(`${this.relayUrl}/api/sessions/refresh`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${this.session.token}`, Accept: 'application/json' },
        mode: 'cors',
      });
      if (!res.ok) return null;
      const body = await res.json();
      if (typeof body?.token !== 'string') return null;
      this._saveSession({
        userId: body.userId ?? this.session.userId,
        displayName: body.displayName ?? this.session.displayName,
        token: body.token,
        expiresAt: body.expiresAt ?? null,
      });
      this._scheduleRefresh();
      return this.session;
    } catch { return null; }
  }

  _scheduleRefresh() {
    clearTimeout(this._refreshTimer);
    this._refreshTimer = null;
    const exp = this.session?.expiresAt ? Date.parse(this.session.expiresAt) : NaN;
    if (!Number.isFinite(exp)) return;
    // Refresh at 80 % of the remaining lifetime, at least 10 s from now, at most ~24 days (setTimeout range).
    const delay = Math.min(2_000_000_000, Math.max(10_000, (exp - Date.now()) * 0.8));
    this._refreshTimer = setTimeout(() => { this.refresh(); }, delay);
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
        const p = msg.rid != null ? this._pending.get(msg.rid) : undefined;
        if (p) {
          this._pending.delete(msg.rid);
          clearTimeout(p.timer);
          if (msg.type === MessageType.ACK) p.resolve(msg);
          else p.reject(new RequestError(msg.code, msg.message, msg));
        } else if (msg.type === MessageType.ERROR) {
          this.emit('error', msg);
        }
        break;
      }
      case MessageType.PRESENCE:
      case MessageType.CALL:
      case MessageType.CHAT:
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
    const cap = Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** Math.min(this.attempt, 10));
    // "Equal jitter": half fixed, half random, so a relay restart is not stormed by every client at once.
    const delay = Math.max(minDelayMs, cap / 2 + Math.random() * cap / 2);
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

  _rejectAll(code) {
    for (const [rid, p] of this._pending) {
      clearTimeout(p.timer);
      p.reject(new RequestError(code, `request ${rid} failed: ${code}`));
    }
    this._pending.clear();
  }

  _signedOut(reason) {
    this._wantConnected = false;
    clearTimeout(this._reconnectTimer);
    clearTimeout(this._refreshTimer);
    this._saveSession(null);
    this._setState(ConnectionState.SIGNED_OUT);
    this.emit('signed-out', { reason });
  }

  /** Close the socket and forget the token. */
  signOut() {
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
    this._signedOut(null);
  }

  /**
   * Send a request; resolves with the `ack`, rejects with RequestError (relay `error`, `timeout`,
   * `not_connected`, `disconnected`).
   */
  request(message, timeoutMs = this.requestTimeoutMs) {
    if (!this.isOpen) return Promise.reject(new RequestError('not_connected', 'not connected'));
    const rid = `${this._ridPrefix}-${++this._ridCounter}`;
    const text = encodeControl({ ...message, rid });
    if (new TextEncoder().encode(text).byteLength > this.limits.maxTextMessageBytes) {
      return Promise.reject(new RequestError('too_large', 'message too large'));
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this._pending.delete(rid)) reject(new RequestError('timeout', `request ${message.type} timed out`));
      }, timeoutMs);
      this._pending.set(rid, { resolve, reject, timer });
      try {
        this.ws.send(text);
      } catch (err) {
        clearTimeout(timer);
        this._pending.delete(rid);
        reject(new RequestError('not_connected', err.message));
      }
    });
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
  mediaState(callId, audio, video) { return this.request(Requests.mediaState(callId, audio, video)); }
  sendChatToCall(callId, text, clientMsgId) { return this.request(Requests.chatToCall(callId, text, clientMsgId)); }
  sendChatToUser(userId, text, clientMsgId) { return this.request(Requests.chatToUser(userId, text, clientMsgId)); }
}
