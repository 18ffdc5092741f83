// Unit tests of the call state machine the panel follows (run by `node --test`, from eng/test.sh).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CallState, ParticipantState } from '../wwwroot/js/protocol.js';
import {
  acceptCallObject, activeCallId, applyCallSnapshot, displayedCallState, isLiveForMe, nameOf, onCallChanged,
} from '../wwwroot/js/call-state.js';

const ME = 1;
const BOB = 2;

function newState() {
  return {
    me: { userId: ME, displayName: 'Alice' },
    online: new Map([[BOB, 'Bob']]),
    calls: new Map(),
    currentCallId: null,
    connectingCallId: null,
    leavingCallId: null,
    incomingCallId: null,
    dismissedIncoming: new Set(),
    lastCall: null,
  };
}

function call(callId, state, version, me, bob = ParticipantState.JOINED) {
  return {
    type: 'call', callId, kind: 'direct', state, version, createdBy: BOB,
    participants: [
      { userId: ME, displayName: 'Alice', state: me, audio: true, video: true },
      { userId: BOB, displayName: 'Bob', state: bob, audio: true, video: true },
    ],
  };
}

function receive(state, event) {
  if (acceptCallObject(state, event)) onCallChanged(state, state.calls.get(event.callId));
}

test('an incoming call rings, then becomes the active call once I accept', () => {
  const state = newState();
  receive(state, call(5, CallState.RINGING, 1, ParticipantState.INVITED));

  assert.equal(state.incomingCallId, 5);
  assert.equal(displayedCallState(state, state.calls.get(5)), CallState.RINGING);
  assert.equal(activeCallId(state), null);

  receive(state, call(5, CallState.ACTIVE, 2, ParticipantState.JOINED));

  assert.equal(state.incomingCallId, null);
  assert.equal(state.currentCallId, 5);
  assert.equal(activeCallId(state), 5);
  assert.ok(isLiveForMe(state, state.calls.get(5)));
});

test('an older or repeated version of a call is ignored', () => {
  const state = newState();
  receive(state, call(5, CallState.ACTIVE, 3, ParticipantState.JOINED));

  assert.equal(acceptCallObject(state, call(5, CallState.RINGING, 2, ParticipantState.INVITED)), false);
  assert.equal(acceptCallObject(state, call(5, CallState.ENDED, 3, ParticipantState.LEFT)), false);
  assert.equal(state.calls.get(5).state, CallState.ACTIVE);
  assert.equal(state.calls.get(5).type, undefined);
});

test('a group call I left shows as ended for me, and sends no media', () => {
  const state = newState();
  receive(state, call(6, CallState.ACTIVE, 1, ParticipantState.JOINED));
  receive(state, call(6, CallState.ACTIVE, 2, ParticipantState.LEFT));

  assert.equal(displayedCallState(state, state.calls.get(6)), CallState.ENDED);
  assert.equal(activeCallId(state), null);
});

test('a live call missing from the hello snapshot ended while I was away; a ringing one was missed', () => {
  const state = newState();
  receive(state, call(7, CallState.ACTIVE, 1, ParticipantState.JOINED));
  receive(state, call(8, CallState.RINGING, 1, ParticipantState.INVITED));

  applyCallSnapshot(state, []);

  assert.equal(state.calls.get(7).state, CallState.ENDED);
  assert.equal(state.calls.get(8).state, CallState.MISSED);
  assert.equal(state.incomingCallId, null);
  // The real event still wins over the local guess.
  assert.ok(acceptCallObject(state, call(7, CallState.ENDED, 2, ParticipantState.LEFT)));
});

test('names come from me, then presence, then call participants', () => {
  const state = newState();
  state.calls.set(9, { ...call(9, CallState.ACTIVE, 1, ParticipantState.JOINED), participants: [{ userId: 3, displayName: 'Carol' }] });

  assert.equal(nameOf(state, ME), 'Alice');
  assert.equal(nameOf(state, BOB), 'Bob');
  assert.equal(nameOf(state, 3), 'Carol');
  assert.equal(nameOf(state, 4), 'User 4');
});
