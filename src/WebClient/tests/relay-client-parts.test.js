// Unit tests of the relay client's pure parts: request matching by rid, reconnect backoff, session API helpers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType } from '../wwwroot/js/protocol.js';
import { PendingRequests, RequestError } from '../wwwroot/js/pending-requests.js';
import { reconnectDelay } from '../wwwroot/js/reconnect-backoff.js';
import { problemMessage, refreshDelay } from '../wwwroot/js/session-api.js';

test('an ack resolves the request with its rid, and only that one', async () => {
  const pending = new PendingRequests('t');
  const [a, b] = [pending.nextRid(), pending.nextRid()];
  assert.deepEqual([a, b], ['t-1', 't-2']);
  const first = pending.track(a, 'chat.send', 10_000, () => {});
  const second = pending.track(b, 'chat.send', 10_000, () => {});

  assert.equal(pending.settle({ type: MessageType.ACK, rid: b }), true);
  assert.deepEqual(await second, { type: MessageType.ACK, rid: b });
  assert.equal(pending.size, 1);
  assert.equal(pending.settle({ type: MessageType.ACK, rid: 'unknown' }), false);
  pending.rejectAll('disconnected');
  await assert.rejects(first, (err) => err instanceof RequestError && err.code === 'disconnected');
  assert.equal(pending.size, 0);
});

test('an error answer rejects with the relay code, message and the answer itself', async () => {
  const pending = new PendingRequests('t');
  const rid = pending.nextRid();
  const request = pending.track(rid, 'call.invite', 10_000, () => {});
  const answer = { type: MessageType.ERROR, rid, code: 'rate_limited', message: 'slow down' };
  pending.settle(answer);
  await assert.rejects(request, (err) => err.code === 'rate_limited' && err.message === 'slow down' && err.response === answer);
});

test('an unanswered request times out, and a late answer is not matched', async () => {
  const pending = new PendingRequests('t');
  const rid = pending.nextRid();
  await assert.rejects(pending.track(rid, 'ping', 5, () => {}), (err) => err.code === 'timeout' && /ping/.test(err.message));
  assert.equal(pending.settle({ type: MessageType.ACK, rid }), false);
});

test('a send that throws rejects not_connected and leaves nothing pending', async () => {
  const pending = new PendingRequests('t');
  const request = pending.track(pending.nextRid(), 'ping', 10_000, () => { throw new Error('socket closed'); });
  await assert.rejects(request, (err) => err.code === 'not_connected' && err.message === 'socket closed');
  assert.equal(pending.size, 0);
});

test('reconnect delays double from the base up to the cap, between half and all of it', () => {
  const policy = { baseMs: 500, maxMs: 4000 };
  assert.deepEqual([0, 1, 2, 3, 4, 20].map((n) => reconnectDelay(n, policy, () => 0)), [250, 500, 1000, 2000, 2000, 2000]);
  assert.deepEqual([0, 1, 2, 3, 4, 20].map((n) => reconnectDelay(n, policy, () => 1)), [500, 1000, 2000, 4000, 4000, 4000]);
});

test('a session is refreshed at 80 % of its remaining lifetime, within setTimeout range, never sooner than 10 s', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(refreshDelay('2026-01-01T01:00:00Z', now), 2_880_000);
  assert.equal(refreshDelay('2026-01-01T00:00:05Z', now), 10_000);
  assert.equal(refreshDelay('2027-01-01T00:00:00Z', now), 2_000_000_000);
  assert.equal(refreshDelay(null, now), null);
  assert.equal(refreshDelay('not a date', now), null);
});

test('a problem answer shows its validation errors, else its detail or title, else the status', () => {
  assert.equal(problemMessage({ errors: { displayName: ['Too long.', 'Bad character.'] }, title: 'x' }, 400), 'Too long. Bad character.');
  assert.equal(problemMessage({ detail: 'Too many sign-ins.', title: 'Too Many Requests' }, 429), 'Too many sign-ins.');
  assert.equal(problemMessage({ title: 'Bad Request' }, 400), 'Bad Request');
  assert.equal(problemMessage(null, 502), 'Sign-in failed (HTTP 502).');
});
