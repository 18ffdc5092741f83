// Unit tests of the pure wire-protocol module (run by `node --test`, from eng/test.sh).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MEDIA_HEADER_LENGTH, MediaKind, MessageType, Limits, Requests, RateWindow,
  codePoints, encodeVideoFrame, encodeAudioFrame, encodeMediaFrame, decodeMediaFrame, sequenceDelta,
  decodeControl, validateDisplayName, isValidChatText,
} from '../wwwroot/js/protocol.js';

test('a video frame survives encode and decode, header fields big-endian', () => {
  const jpeg = new Uint8Array([0xff, 0xd8, 1, 2, 3, 0xff, 0xd9]);
  const buffer = encodeVideoFrame({ sequence: 7, callId: 2 ** 40 + 5, captureTime: 1_700_000_000_000_000, width: 640, height: 360 }, jpeg);

  assert.equal(buffer.byteLength, MEDIA_HEADER_LENGTH + jpeg.length);
  const view = new DataView(buffer);
  assert.equal(view.getUint8(0), 1);
  assert.equal(view.getUint16(2), MEDIA_HEADER_LENGTH);
  assert.equal(view.getUint16(24), 640);
  const frame = decodeMediaFrame(buffer);
  assert.equal(frame.kind, MediaKind.VIDEO);
  assert.equal(frame.sequence, 7);
  assert.equal(frame.callId, 2 ** 40 + 5);
  assert.equal(frame.captureTime, 1_700_000_000_000_000);
  assert.deepEqual([frame.a, frame.b, frame.c, frame.senderId], [640, 360, 0, 0]);
  assert.deepEqual([...frame.payload], [...jpeg]);
});

test('an audio frame carries channels in a and the sample rate in c', () => {
  const frame = decodeMediaFrame(encodeAudioFrame({ sequence: 1, callId: 3, captureTime: 10, sampleRate: 48000 }, new Uint8Array(960)));

  assert.equal(frame.kind, MediaKind.AUDIO);
  assert.deepEqual([frame.a, frame.b, frame.c], [1, 0, 48000]);
  assert.equal(frame.payload.length, 960);
});

test('a frame of another version, too short or with a bad header length is not decoded', () => {
  assert.equal(decodeMediaFrame(new ArrayBuffer(MEDIA_HEADER_LENGTH - 1)), null);
  const other = encodeMediaFrame({ kind: 1, sequence: 0, callId: 1, captureTime: 0 }, new Uint8Array(4));
  new DataView(other).setUint8(0, 2);
  assert.equal(decodeMediaFrame(other), null);
  const longer = encodeMediaFrame({ kind: 1, sequence: 0, callId: 1, captureTime: 0 }, new Uint8Array(4));
  new DataView(longer).setUint16(2, MEDIA_HEADER_LENGTH + 100);
  assert.equal(decodeMediaFrame(longer), null);
  assert.equal(decodeMediaFrame('not a buffer'), null);
});

test('sequence numbers wrap in uint32 space', () => {
  assert.equal(sequenceDelta(10, 11), 1);
  assert.equal(sequenceDelta(0xffffffff, 0), 1);
  assert.equal(sequenceDelta(5, 3), -2);
});

test('text is counted in code points, as the relay counts it', () => {
  assert.equal(codePoints('abc'), 3);
  assert.equal(codePoints('😀'), 1);
  assert.equal('😀'.length, 2);
  assert.ok(isValidChatText('😀'.repeat(Limits.maxChatTextLength)));
  assert.ok(!isValidChatText('😀'.repeat(Limits.maxChatTextLength + 1)));
});

test('chat text with a lone surrogate, a NUL or nothing is refused', () => {
  assert.ok(isValidChatText('hello'));
  assert.ok(!isValidChatText(''));
  assert.ok(!isValidChatText('a\u0000b'));
  assert.ok(!isValidChatText('a\ud800b'));
  assert.ok(!isValidChatText('a\udc00'));
  assert.ok(isValidChatText('a\ud83d\ude00b'));
  assert.ok(!isValidChatText(42));
});

test('a display name is trimmed, 1 to 64 code points, without control characters', () => {
  assert.deepEqual(validateDisplayName('  Alice  '), { ok: true, value: 'Alice' });
  assert.equal(validateDisplayName('   ').ok, false);
  assert.equal(validateDisplayName('x'.repeat(Limits.maxDisplayNameLength + 1)).ok, false);
  assert.equal(validateDisplayName('😀'.repeat(Limits.maxDisplayNameLength)).ok, true);
  assert.equal(validateDisplayName('a\u0007b').ok, false);
});

test('a control message must be a JSON object with a string type', () => {
  assert.deepEqual(decodeControl('{"type":"ack","rid":"1"}'), { type: 'ack', rid: '1' });
  assert.equal(decodeControl('not json'), null);
  assert.equal(decodeControl('[1,2]'), null);
  assert.equal(decodeControl('{"type":3}'), null);
});

test('request builders spell the documented messages', () => {
  assert.deepEqual(Requests.invite(new Set([2, 3])), { type: MessageType.CALL_INVITE, to: [2, 3] });
  assert.deepEqual(Requests.mediaState(9, 0, 'yes'), { type: 'media.state', callId: 9, audio: false, video: true });
  assert.deepEqual(Requests.directHistory(4, 100, 20), { type: 'chat.history', with: 4, before: 100, limit: 20 });
  assert.deepEqual(Requests.chatToCall(9, 'hi', 'c-1'), { type: 'chat.send', callId: 9, text: 'hi', clientMsgId: 'c-1' });
});

test('a rate window allows at most max events in any window', () => {
  const window = new RateWindow(2, 1000);
  assert.ok(window.tryTake(0));
  assert.ok(window.tryTake(10));
  assert.ok(!window.tryTake(999));
  assert.ok(window.tryTake(1000));
});
