// The call state machine: how the relay's call objects are merged into the app state and which call the
// panel follows. No DOM and no requests here, so the rules live in one place and every caller agrees on them.
import { CallState, FINAL_CALL_STATES, ParticipantState } from './protocol.js';

export const myId = (state) => state.me?.userId ?? null;
export const myPart = (state, call) => call?.participants?.find((p) => p.userId === myId(state)) ?? null;
export const currentCall = (state) =>
  (state.currentCallId != null ? state.calls.get(state.currentCallId) ?? null : null);

/** A call I take part in that is not over for me. */
export function isLiveForMe(state, call) {
  if (!call || FINAL_CALL_STATES.has(call.state)) return false;
  const me = myPart(state, call);
  return me?.state === ParticipantState.JOINED;
}

/**
 * The call's `recording` ({recordingId, startedBy, startedByName, startedAt}) while it is recorded, else null. A call
 * that is over is not recorded, even one closed locally after a reconnect that still holds its last `recording`.
 */
export const recordingOf = (call) => (call && !FINAL_CALL_STATES.has(call.state) ? call.recording ?? null : null);

/** The call media is sent to, or null. */
export function activeCallId(state) {
  const call = currentCall(state);
  if (!call || call.state !== CallState.ACTIVE) return null;
  if (state.leavingCallId === call.callId) return null;
  return myPart(state, call)?.state === ParticipantState.JOINED ? call.callId : null;
}

export function displayedCallState(state, call) {
  if (!call) return state.connectingCallId != null ? 'connecting' : CallState.RINGING;
  if (FINAL_CALL_STATES.has(call.state)) return call.state;
  const me = myPart(state, call);
  if (state.connectingCallId === call.callId && !(call.state === CallState.ACTIVE && me?.state === ParticipantState.JOINED)) {
    return 'connecting';
  }
  if (me?.state === ParticipantState.DECLINED) return CallState.DECLINED; // a group call going on without me
  if (me?.state === ParticipantState.LEFT) return CallState.ENDED;        // ended for me
  if (me?.state === ParticipantState.INVITED) return CallState.RINGING;   // e.g. added to an active group call
  return call.state;
}

export function nameOf(state, userId) {
  if (userId === myId(state)) return state.me.displayName;
  if (state.online.has(userId)) return state.online.get(userId);
  for (const call of state.calls.values()) {
    const p = call.participants?.find((x) => x.userId === userId);
    if (p?.displayName) return p.displayName;
  }
  return `User ${userId}`;
}

/** Store a call event unless it is older than what we have; false when it was stale. */
export function acceptCallObject(state, call) {
  if (!call || call.callId == null) return false;
  const existing = state.calls.get(call.callId);
  if (existing && !existing._synthetic && !(call.version > existing.version)) return false;
  if (existing?._synthetic && call.version < existing.version) return false;
  const { type, ...rest } = call; // eslint-disable-line no-unused-vars
  state.calls.set(call.callId, rest);
  state.lastCall = rest;
  return true;
}

/** Update which call the panel shows, and the connecting/leaving/incoming markers, after a call changed. */
export function onCallChanged(state, call) {
  const me = myPart(state, call);
  const cur = currentCall(state);
  const final = FINAL_CALL_STATES.has(call.state);
  // May this call replace the one in the panel? Not while another is live or being joined.
  const canTake = state.currentCallId === null || state.currentCallId === call.callId
    || (!isLiveForMe(state, cur) && state.connectingCallId !== state.currentCallId
        && !(myPart(state, cur)?.state === ParticipantState.INVITED && !FINAL_CALL_STATES.has(cur.state)));
  if (!final && call.callId !== state.leavingCallId && canTake
      && (me?.state === ParticipantState.JOINED
          || (me?.state === ParticipantState.INVITED && !state.dismissedIncoming.has(call.callId)))) {
    if (state.currentCallId !== call.callId) state.connectingCallId = null;
    state.currentCallId = call.callId;
  }
  if (state.connectingCallId === call.callId
      && ((call.state === CallState.ACTIVE && me?.state === ParticipantState.JOINED) || final)) {
    state.connectingCallId = null;
  }
  if (state.leavingCallId === call.callId && (final || me?.state !== ParticipantState.JOINED)) {
    state.leavingCallId = null;
  }
  // Incoming prompt.
  if (me?.state === ParticipantState.INVITED && !final
      && !state.dismissedIncoming.has(call.callId) && state.connectingCallId !== call.callId) {
    state.incomingCallId = call.callId;
  } else if (state.incomingCallId === call.callId) {
    state.incomingCallId = null;
  }
}

/**
 * Merge the hello snapshot, which holds my ringing/active calls: anything else we thought live finished
 * while we were away, so it is closed locally (marked _synthetic so a late real event still wins).
 */
export function applyCallSnapshot(state, snapshotCalls) {
  const inSnapshot = new Set();
  for (const call of snapshotCalls) {
    inSnapshot.add(call.callId);
    const existing = state.calls.get(call.callId);
    if (!existing || existing._synthetic || call.version >= existing.version) {
      const { type, ...rest } = call; // eslint-disable-line no-unused-vars
      state.calls.set(call.callId, rest);
      state.lastCall = rest;
    }
  }
  for (const [callId, call] of state.calls) {
    if (!inSnapshot.has(callId) && !FINAL_CALL_STATES.has(call.state)) {
      const me = myPart(state, call);
      const finished = {
        ...call, _synthetic: true,
        state: call.state === CallState.RINGING && me?.state === ParticipantState.INVITED ? CallState.MISSED : CallState.ENDED,
      };
      state.calls.set(callId, finished);
    }
  }
  if (state.connectingCallId != null && !inSnapshot.has(state.connectingCallId)) state.connectingCallId = null;
  if (state.leavingCallId != null && !inSnapshot.has(state.leavingCallId)) state.leavingCallId = null;
  for (const call of snapshotCalls) onCallChanged(state, state.calls.get(call.callId));
  if (state.incomingCallId != null && !inSnapshot.has(state.incomingCallId)) state.incomingCallId = null;
}
