// Calls as the user sees them: invite/accept/decline/hang up/add person, the incoming-call prompt and the
// call panel. The rules for which call is shown live in call-state.js; this module acts and renders.
import { FINAL_CALL_STATES, Limits, ParticipantState } from './protocol.js';
import { setText, show, syncSelect } from './ui.js';
import { describeRequestError } from './notices.js';
import {
  acceptCallObject, currentCall, displayedCallState, isLiveForMe, myId, myPart, nameOf, onCallChanged, recordingOf,
} from './call-state.js';

export function createCalls(ctx) {
  const { state, dom } = ctx;
  const showAppError = (...args) => ctx.notices.showAppError(...args);
  // Calls are started from a click, which is the gesture browsers need before audio may play.
  const ensureAudioContext = () => ctx.media.ensureAudioContext();

  function onCallEvent(msg) {
    const before = state.calls.get(msg.callId)?.recording?.recordingId ?? null;
    if (!acceptCallObject(state, msg)) return;
    onCallChanged(state, state.calls.get(msg.callId));
    // A recording started or stopped: the recordings list (if open) has a new row or a finished one.
    if ((msg.recording?.recordingId ?? null) !== before) ctx.recordings.onRecordingsChanged();
    ctx.renderAll();
  }

  /** Calling someone while in a call adds them to it instead. */
  async function startCall(userId) {
    ensureAudioContext();
    const cur = currentCall(state);
    if (isLiveForMe(state, cur)) return addToCall(cur.callId, userId);
    try {
      const ack = await state.client.invite([userId]);
      if (ack.callId != null) {
        const c = currentCall(state);
        if (!isLiveForMe(state, c) || c.callId === ack.callId) {
          state.currentCallId = ack.callId;
          state.connectingCallId = null;
        }
      }
      ctx.renderAll();
    } catch (err) {
      showAppError(describeRequestError(err, `call ${nameOf(state, userId)}`));
    }
  }

  async function addToCall(callId, userId) {
    try {
      await state.client.addToCall(callId, userId);
    } catch (err) {
      showAppError(describeRequestError(err, `add ${nameOf(state, userId)}`));
    }
  }

  /** Accepting another call leaves the current one: one live call at a time. */
  async function acceptIncoming() {
    ensureAudioContext();
    const callId = state.incomingCallId;
    if (callId == null) return;
    const cur = currentCall(state);
    if (isLiveForMe(state, cur) && cur.callId !== callId) {
      state.leavingCallId = cur.callId;
      state.client.hangup(cur.callId).catch(() => {});
    }
    state.incomingCallId = null;
    state.dismissedIncoming.add(callId);
    state.currentCallId = callId;
    state.connectingCallId = callId;
    ctx.renderAll();
    try {
      await state.client.accept(callId);
    } catch (err) {
      if (state.connectingCallId === callId) state.connectingCallId = null;
      showAppError(describeRequestError(err, 'accept the call'));
    }
    ctx.renderAll();
  }

  async function declineIncoming() {
    const callId = state.incomingCallId;
    if (callId == null) return;
    state.incomingCallId = null;
    state.dismissedIncoming.add(callId);
    ctx.renderAll();
    try {
      await state.client.decline(callId);
    } catch (err) {
      // invalid_state: the call ended or was answered elsewhere meanwhile, which is what the user wanted.
      if (err?.code !== 'invalid_state') showAppError(describeRequestError(err, 'decline the call'));
    }
  }

  async function hangup() {
    const call = currentCall(state);
    const callId = call?.callId ?? state.currentCallId;
    if (callId == null) return;
    state.leavingCallId = callId;
    state.connectingCallId = null;
    ctx.renderAll();
    try {
      await state.client.hangup(callId);
    } catch (err) {
      state.leavingCallId = null;
      if (err?.code !== 'invalid_state' && err?.code !== 'not_participant') showAppError(describeRequestError(err, 'hang up'));
    }
    ctx.renderAll();
  }

  // Consent is informed: every participant sees who records. The toggle only asks; the banner follows the call event.
  async function toggleRecording() {
    const call = currentCall(state);
    if (!call || state.recordingRequest) return;
    state.recordingRequest = true;
    ctx.renderAll();
    try {
      if (call.recording) await state.client.recordStop(call.callId);
      else await state.client.recordStart(call.callId);
    } catch (err) {
      showAppError(describeRequestError(err, call.recording ? 'stop recording' : 'start recording'));
    } finally {
      state.recordingRequest = false;
      ctx.renderAll();
    }
  }

  function renderRecording(call, live) {
    const recording = call?.recording ?? null;
    const canRecord = !!live && call?.state === 'active';
    show(dom.toggleRecording, canRecord);
    dom.toggleRecording.disabled = !!state.recordingRequest;
    dom.toggleRecording.setAttribute('aria-pressed', recording ? 'true' : 'false');
    dom.toggleRecording.classList.toggle('btn-recording', !!recording);
    setText(dom.toggleRecording.querySelector('.lbl'), recording ? 'Stop recording' : 'Record');
    show(dom.recordingBanner, !!recording && !FINAL_CALL_STATES.has(call.state));
    if (recording) {
      const by = recording.startedBy === myId(state) ? 'you' : (recording.startedByName || nameOf(state, recording.startedBy));
      setText(dom.recordingBanner, `● Recording — started by ${by}`);
      dom.recordingBanner.dataset.recordingId = String(recording.recordingId);
    }
  }

  function closeCallPanel() {
    const call = currentCall(state);
    if (call && isLiveForMe(state, call)) return;
    if (call) state.dismissedIncoming.add(call.callId);
    state.currentCallId = null;
    state.connectingCallId = null;
    ctx.renderAll();
  }

  function renderIncoming() {
    const call = state.incomingCallId != null ? state.calls.get(state.incomingCallId) : null;
    if (!call) { show(dom.incoming, false); return; }
    const caller = call.participants?.find((p) => p.userId === call.createdBy);
    const others = (call.participants ?? []).filter((p) => p.userId !== myId(state) && p.userId !== call.createdBy
      && (p.state === ParticipantState.JOINED || p.state === ParticipantState.INVITED));
    const who = caller?.displayName ?? nameOf(state, call.createdBy);
    const extra = others.length ? ` (with ${others.map((p) => p.displayName).join(', ')})` : '';
    // Whoever is asked to join a recorded call is told before answering.
    const recorded = recordingOf(call) ? ' The call is being recorded.' : '';
    setText(dom.incomingText, `${who} is calling you${extra}.${recorded}`);
    dom.incoming.dataset.callId = String(call.callId);
    const wasHidden = dom.incoming.hidden;
    show(dom.incoming, true);
    // Do not steal focus from someone typing.
    if (wasHidden && !dom.chatInput.matches(':focus') && !dom.signinName.matches(':focus')) dom.incomingAccept.focus();
  }

  function renderCall() {
    const call = currentCall(state);
    const visible = state.currentCallId != null;
    show(dom.callPanel, visible);
    if (!visible) {
      show(dom.hangup, false);
      show(dom.callClose, false);
      renderRecording(null, false);
      return;
    }
    const shown = displayedCallState(state, call);
    setText(dom.callState, shown);
    dom.callState.dataset.state = shown;
    dom.callPanel.dataset.callId = String(state.currentCallId);

    const others = (call?.participants ?? []).filter((p) => p.userId !== myId(state));
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

    const live = (call && isLiveForMe(state, call) && state.leavingCallId !== call.callId) || state.connectingCallId === state.currentCallId;
    const beingRung = call && myPart(state, call)?.state === ParticipantState.INVITED && !FINAL_CALL_STATES.has(call.state)
      && state.connectingCallId !== call.callId && !state.dismissedIncoming.has(call.callId);
    show(dom.hangup, !!live);
    show(dom.callClose, !live && !beingRung);
    renderRecording(call, live);

    // Add person: online users who are not joined or invited.
    const canAdd = call && isLiveForMe(state, call) && state.leavingCallId !== call.callId;
    const inCall = new Set((call?.participants ?? [])
      .filter((p) => p.state === ParticipantState.JOINED || p.state === ParticipantState.INVITED).map((p) => p.userId));
    const options = [...state.online.entries()].filter(([id]) => !inCall.has(id))
      .sort((a, b) => a[1].localeCompare(b[1])).map(([value, label]) => ({ value, label }));
    const full = inCall.size >= Limits.maxCallParticipants;
    syncSelect(dom.addPerson, options, 'Nobody else online');
    show(dom.callAdd, !!canAdd);
    dom.addPersonSubmit.disabled = full || options.length === 0;
    dom.addPerson.disabled = full || options.length === 0;
  }

  function bind() {
    dom.incomingAccept.addEventListener('click', acceptIncoming);
    dom.incomingDecline.addEventListener('click', declineIncoming);
    dom.hangup.addEventListener('click', hangup);
    dom.toggleRecording.addEventListener('click', toggleRecording);
    dom.callClose.addEventListener('click', closeCallPanel);
    dom.addPersonSubmit.addEventListener('click', () => {
      const call = currentCall(state);
      const userId = Number(dom.addPerson.value);
      if (call && Number.isFinite(userId) && userId > 0) addToCall(call.callId, userId);
    });
  }

  return { onCallEvent, startCall, renderIncoming, renderCall, bind };
}
