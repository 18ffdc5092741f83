// PgVideoChat wire protocol, version 1 (docs/protocol.md). The one JavaScript definition; its constants are checked
// against src/Protocol's C# ones by tests/Relay.UnitTests (JsProtocolConstantsTests).

export const PROTOCOL_VERSION = 1;
export const MEDIA_HEADER_LENGTH = 40;

/** Media frame kinds (byte 1 of the header). */
export const MediaKind = Object.freeze({ VIDEO: 1, AUDIO: 2 });

/** WebSocket close codes (section 5); ABNORMAL is the browser's own (the connection dropped without a close frame). */
export const CloseCode = Object.freeze({
  NORMAL: 1000,
  GOING_AWAY: 1001,
  ABNORMAL: 1006,
  INTERNAL_ERROR: 1011,
  MALFORMED: 4400,
  UNAUTHORIZED: 4401,
  TOO_SLOW: 4408,
  TOO_LARGE: 4413,
  FLOODING: 4429,
  DATABASE_UNAVAILABLE: 4503,
});

/** Error codes carried by `error` messages. */
export const ErrorCode = Object.freeze({
  INVALID_MESSAGE: 'invalid_message',
  UNKNOWN_TYPE: 'unknown_type',
  NOT_FOUND: 'not_found',
  NOT_PARTICIPANT: 'not_participant',
  INVALID_STATE: 'invalid_state',
  RATE_LIMITED: 'rate_limited',
  UNAVAILABLE: 'unavailable',
});

/** Control message types. */
export const MessageType = Object.freeze({
  // client -> relay
  CALL_INVITE: 'call.invite',
  CALL_ADD: 'call.add',
  CALL_ACCEPT: 'call.accept',
  CALL_DECLINE: 'call.decline',
  CALL_HANGUP: 'call.hangup',
  CALL_RECORD_START: 'call.record.start',
  CALL_RECORD_STOP: 'call.record.stop',
  MEDIA_STATE: 'media.state',
  CHAT_SEND: 'chat.send',
  CHAT_HISTORY: 'chat.history',
  PING: 'ping',
  // relay -> client
  HELLO: 'hello',
  PRESENCE: 'presence',
  CALL: 'call',
  CHAT: 'chat',
  MEDIA_QUALITY: 'media.quality',
  ACK: 'ack',
  ERROR: 'error',
});

/** The relay's steps for a sender whose frames are dropped (src/Protocol/MediaQuality.cs; docs/protocol.md). */
export const QualitySteps = Object.freeze([
  Object.freeze({ level: 0, maxJpegQuality: null, maxWidth: null, maxHeight: null, maxFps: null }),
  Object.freeze({ level: 1, maxJpegQuality: 0.5, maxWidth: null, maxHeight: null, maxFps: null }),
  Object.freeze({ level: 2, maxJpegQuality: 0.5, maxWidth: 320, maxHeight: 180, maxFps: null }),
  Object.freeze({ level: 3, maxJpegQuality: 0.5, maxWidth: 320, maxHeight: 180, maxFps: 8 }),
]);

export const CallState = Object.freeze({
  RINGING: 'ringing', ACTIVE: 'active', ENDED: 'ended',
  DECLINED: 'declined', MISSED: 'missed', CANCELLED: 'cancelled',
});
export const FINAL_CALL_STATES = Object.freeze(new Set(['ended', 'declined', 'missed', 'cancelled']));

export const ParticipantState = Object.freeze({
  INVITED: 'invited', JOINED: 'joined', DECLINED: 'declined', LEFT: 'left',
});

/** Limits; the relay's `hello.limits` overrides the media ones at run time. */
export const Limits = Object.freeze({
  maxDisplayNameLength: 64,
  maxRequestIdLength: 64,
  maxClientMessageIdLength: 64,
  maxChatTextLength: 4000,
  maxTextMessageBytes: 64 * 1024,
  maxInvitees: 7,
  maxCallParticipants: 8,
  maxVideoFrameBytes: 256 * 1024,
  maxAudioFrameBytes: 16 * 1024,
  maxVideoFps: 30,
  maxAudioFps: 60,
  minAudioSampleRate: 8000,
  maxAudioSampleRate: 48000,
  maxJsonDepth: 8,
  maxChatHistoryPage: 100,
  defaultChatHistoryPage: 50,
  maxBinaryMessageBytes: 40 + 256 * 1024,
  maxId: 2 ** 53 - 1,
});

/**
 * The relay's per-user request limits (section 3.3): a token bucket each, `burst` at once, then `tokens` per
 * `periodMs`. A client that stays within them never sees `rate_limited`.
 */
export const RequestLimits = Object.freeze({
  chat: Object.freeze({ burst: 20, tokens: 5, periodMs: 1000 }),
  ring: Object.freeze({ burst: 14, tokens: 1, periodMs: 3000 }),
  callChange: Object.freeze({ burst: 20, tokens: 4, periodMs: 1000 }),
  history: Object.freeze({ burst: 10, tokens: 2, periodMs: 1000 }),
  connect: Object.freeze({ burst: 10, tokens: 1, periodMs: 2000 }),
  connectionsPerUser: 10,
});

/** Text is measured in Unicode code points, as the relay and Postgres's char_length do (an emoji is one). */
export function codePoints(text) {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/** Current time in microseconds since the Unix epoch (a Number; stays below 2^53). */
export function nowMicros() {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

function toBigU64(value) {
  if (typeof value === 'bigint') return BigInt.asUintN(64, value);
  if (!Number.isFinite(value) || value < 0) return 0n;
  return BigInt(Math.floor(value));
}

/**
 * Build a media frame: 40-byte big-endian header + payload.
 * @param {{kind:number, sequence:number, callId:number, captureTime:number, a:number, b:number, c:number, senderId?:number}} h
 * @param {Uint8Array|ArrayBuffer} payload
 * @returns {ArrayBuffer}
 */
export function encodeMediaFrame(h, payload) {
  const body = payload instanceof Uint8Array ? payload : new Uint8Array(payload);
  const buf = new ArrayBuffer(MEDIA_HEADER_LENGTH + body.byteLength);
  const v = new DataView(buf);
  v.setUint8(0, PROTOCOL_VERSION);
  v.setUint8(1, h.kind);
  v.setUint16(2, MEDIA_HEADER_LENGTH);
  v.setUint32(4, h.sequence >>> 0);
  v.setBigUint64(8, toBigU64(h.callId));
  v.setBigUint64(16, toBigU64(h.captureTime));
  v.setUint16(24, (h.a ?? 0) & 0xffff);
  v.setUint16(26, (h.b ?? 0) & 0xffff);
  v.setUint32(28, (h.c ?? 0) >>> 0);
  v.setBigUint64(32, toBigU64(h.senderId ?? 0));
  new Uint8Array(buf, MEDIA_HEADER_LENGTH).set(body);
  return buf;
}

export function encodeVideoFrame({ sequence, callId, captureTime, width, height }, jpeg) {
  return encodeMediaFrame({ kind: MediaKind.VIDEO, sequence, callId, captureTime, a: width, b: height, c: 0 }, jpeg);
}

export function encodeAudioFrame({ sequence, callId, captureTime, channels = 1, sampleRate }, pcm16le) {
  return encodeMediaFrame({ kind: MediaKind.AUDIO, sequence, callId, captureTime, a: channels, b: 0, c: sampleRate }, pcm16le);
}

/**
 * Parse a binary media message. Returns null when it is not a version-1 frame we understand.
 * `payload` is a view into `buffer` (no copy).
 */
export function decodeMediaFrame(buffer) {
  if (!(buffer instanceof ArrayBuffer) || buffer.byteLength < MEDIA_HEADER_LENGTH) return null;
  const v = new DataView(buffer);
  const version = v.getUint8(0);
  if (version !== PROTOCOL_VERSION) return null;
  const headerLength = v.getUint16(2);
  if (headerLength < MEDIA_HEADER_LENGTH || headerLength > buffer.byteLength) return null;
  const kind = v.getUint8(1);
  return {
    version,
    kind,
    headerLength,
    sequence: v.getUint32(4),
    callId: Number(v.getBigUint64(8)),
    captureTime: Number(v.getBigUint64(16)),
    a: v.getUint16(24),
    b: v.getUint16(26),
    c: v.getUint32(28),
    senderId: Number(v.getBigUint64(32)),
    payload: new Uint8Array(buffer, headerLength),
  };
}

/** Sequence difference `next - prev` in uint32 space, as a signed number. */
export function sequenceDelta(prev, next) {
  return ((next - prev) | 0);
}

export function encodeControl(message) {
  return JSON.stringify(message);
}

export function decodeControl(text) {
  let msg;
  try { msg = JSON.parse(text); } catch { return null; }
  if (!msg || typeof msg !== 'object' || typeof msg.type !== 'string') return null;
  return msg;
}

/** Client-side check of a display name (1-64 characters after trimming, no control characters). */
export function validateDisplayName(name) {
  const trimmed = String(name ?? '').trim();
  if (trimmed.length === 0) return { ok: false, error: 'Please enter a display name.' };
  if (codePoints(trimmed) > Limits.maxDisplayNameLength) return { ok: false, error: `At most ${Limits.maxDisplayNameLength} characters.` };
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(trimmed)) return { ok: false, error: 'No control characters, please.' };
  return { ok: true, value: trimmed };
}

// An unpaired UTF-16 surrogate: the relay refuses text holding one (String.prototype.isWellFormed, spelled out so that
// older engines and Node 18 run it too).
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function isValidChatText(text) {
  return typeof text === 'string' && text.length >= 1 && codePoints(text) <= Limits.maxChatTextLength
    && !text.includes('\u0000') && !LONE_SURROGATE.test(text);
}

/** Request builders (the relay-client adds `rid`). */
export const Requests = Object.freeze({
  invite: (to) => ({ type: MessageType.CALL_INVITE, to: [...to] }),
  add: (callId, userId) => ({ type: MessageType.CALL_ADD, callId, userId }),
  accept: (callId) => ({ type: MessageType.CALL_ACCEPT, callId }),
  decline: (callId) => ({ type: MessageType.CALL_DECLINE, callId }),
  hangup: (callId) => ({ type: MessageType.CALL_HANGUP, callId }),
  recordStart: (callId) => ({ type: MessageType.CALL_RECORD_START, callId }),
  recordStop: (callId) => ({ type: MessageType.CALL_RECORD_STOP, callId }),
  mediaState: (callId, audio, video) => ({ type: MessageType.MEDIA_STATE, callId, audio: !!audio, video: !!video }),
  chatToCall: (callId, text, clientMsgId) => ({ type: MessageType.CHAT_SEND, callId, text, clientMsgId }),
  chatToUser: (to, text, clientMsgId) => ({ type: MessageType.CHAT_SEND, to, text, clientMsgId }),
  // Older chat than `before` (a message id) of a call or of the direct conversation `with` a user; the ack has `messages`.
  callHistory: (callId, before, limit) => ({ type: MessageType.CHAT_HISTORY, callId, before, limit }),
  directHistory: (withUser, before, limit) => ({ type: MessageType.CHAT_HISTORY, with: withUser, before, limit }),
  ping: () => ({ type: MessageType.PING }),
});

/**
 * Sender-side guard for the relay's "frames per second per call" limits: allows at most `max`
 * events in any sliding window of `windowMs`.
 */
export class RateWindow {
  constructor(max, windowMs = 1000) {
    this.max = max;
    this.windowMs = windowMs;
    this.times = [];
  }
  tryTake(now = performance.now()) {
    const t = this.times;
    while (t.length && now - t[0] >= this.windowMs) t.shift();
    if (t.length >= this.max) return false;
    t.push(now);
    return true;
  }
}
