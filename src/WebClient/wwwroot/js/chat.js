// Chat, direct and in-call. Our own messages show at once as pending, keyed by a client message id; the
// relay's event (or ack) for that id replaces them, so a resend after a reconnect never duplicates a message.
import { Limits, isValidChatText } from './protocol.js';
import { createChatMessage, createPendingMessage, setText, show, syncSelect } from './ui.js';
import { currentCall, isLiveForMe, myId, nameOf } from './call-state.js';

// Failures that a later attempt can fix; anything else marks the message as not sent.
const RETRYABLE = Object.freeze(['not_connected', 'disconnected', 'timeout', 'unavailable', 'rate_limited']);

export function createChat(ctx) {
  const { state, dom } = ctx;
  const showAppError = (...args) => ctx.notices.showAppError(...args);

  function contextLabel(msg) {
    if (msg.callId != null) return `in call #${msg.callId}`;
    if (msg.from === myId(state)) return `to ${nameOf(state, msg.to)}`;
    return 'direct';
  }

  function onChat(msg) {
    if (msg.id == null) return;
    const clean = { ...msg };
    delete clean.type;
    // Confirmation of one of ours.
    if (clean.from === myId(state) && clean.clientMsgId && state.pending.has(clean.clientMsgId)) {
      const p = state.pending.get(clean.clientMsgId);
      p.el?.remove();
      state.pending.delete(clean.clientMsgId);
    }
    if (state.chatById.has(clean.id)) return;
    state.chatById.set(clean.id, clean);
    // Insert sorted by id (almost always at the end).
    let i = state.chatList.length;
    while (i > 0 && state.chatList[i - 1].id > clean.id) i--;
    state.chatList.splice(i, 0, clean);
    const node = createChatMessage(clean, { mine: clean.from === myId(state), context: contextLabel(clean) });
    const next = state.chatList[i + 1];
    const nextEl = next ? dom.chatMessages.querySelector(`[data-testid="chat-message"][data-id="${next.id}"]`) : null;
    const stick = dom.chatMessages.scrollHeight - dom.chatMessages.scrollTop - dom.chatMessages.clientHeight < 40;
    if (nextEl) dom.chatMessages.insertBefore(node, nextEl);
    else {
      // Pending messages stay last: they are newer than anything delivered.
      const firstPending = dom.chatMessages.querySelector('[data-testid="chat-pending"]');
      dom.chatMessages.insertBefore(node, firstPending);
    }
    if (stick) dom.chatMessages.scrollTop = dom.chatMessages.scrollHeight;
  }

  /** In a call, messages go to the call; otherwise to the person picked in the To select. */
  function chatTarget() {
    const call = currentCall(state);
    if (call && isLiveForMe(state, call)) return { callId: call.callId, label: `Everyone in call #${call.callId}` };
    const to = Number(dom.chatTo.value);
    if (Number.isFinite(to) && to > 0 && state.online.has(to)) return { to, label: `Direct message to ${nameOf(state, to)}` };
    return null;
  }

  function newClientMsgId() {
    const rnd = crypto.getRandomValues(new Uint32Array(2));
    return `c-${myId(state)}-${Date.now().toString(36)}-${rnd[0].toString(36)}${rnd[1].toString(36)}`.slice(0, Limits.maxClientMessageIdLength);
  }

  function setPendingStatus(p, text) {
    const s = p.el?.querySelector('.chat-status');
    if (s) setText(s, text);
  }

  function sendPending(p) {
    const { client } = state;
    p.status = 'sending';
    setPendingStatus(p, 'sending…');
    const req = p.callId != null
      ? client.sendChatToCall(p.callId, p.text, p.clientMsgId)
      : client.sendChatToUser(p.to, p.text, p.clientMsgId);
    req.then((ack) => {
      if (!state.pending.has(p.clientMsgId)) return; // the event came first
      p.status = 'sent';
      p.id = ack.id;
      if (ack.id != null && state.chatById.has(ack.id)) { p.el?.remove(); state.pending.delete(p.clientMsgId); return; }
      setPendingStatus(p, 'sent');
    }, (err) => {
      if (!state.pending.has(p.clientMsgId)) return;
      if (RETRYABLE.includes(err?.code)) {
        p.status = 'retry';
        setPendingStatus(p, 'waiting for connection…');
        // Disconnects are retried by resendPending() on the next hello; these would otherwise wait forever.
        if (err.code === 'rate_limited' || err.code === 'unavailable' || (err.code === 'timeout' && state.client.isOpen)) {
          setTimeout(() => { if (state.pending.has(p.clientMsgId) && p.status === 'retry' && state.client.isOpen) sendPending(p); }, 2000);
        }
      } else {
        p.status = 'failed';
        p.el?.classList.add('failed');
        setPendingStatus(p, `not sent: ${err?.message ?? err?.code ?? 'error'}`);
      }
    });
  }

  /** After a (re)connect: the client message id lets the relay drop what it already stored. */
  function resendPending() {
    for (const p of state.pending.values()) if (p.status === 'retry' || p.status === 'sending') sendPending(p);
  }

  function onSubmit(ev) {
    ev.preventDefault();
    const text = dom.chatInput.value;
    if (!text.trim()) return;
    if (!isValidChatText(text)) { showAppError(`A message is 1–${Limits.maxChatTextLength} characters.`); return; }
    const target = chatTarget();
    if (!target) { showAppError('Choose someone to message, or start a call.'); return; }
    const p = { clientMsgId: newClientMsgId(), text, callId: target.callId ?? null, to: target.to ?? null, status: 'new', el: null };
    p.el = createPendingMessage(p, p.callId != null ? `in call #${p.callId}` : `to ${nameOf(state, p.to)}`);
    state.pending.set(p.clientMsgId, p);
    dom.chatMessages.append(p.el);
    dom.chatMessages.scrollTop = dom.chatMessages.scrollHeight;
    dom.chatInput.value = '';
    dom.chatInput.focus();
    sendPending(p);
  }

  function renderComposer() {
    const call = currentCall(state);
    const inCall = call && isLiveForMe(state, call);
    const options = [...state.online.entries()].sort((a, b) => a[1].localeCompare(b[1]))
      .map(([value, label]) => ({ value, label }));
    syncSelect(dom.chatTo, options, 'Nobody online');
    show(dom.chatToWrap, !inCall);
    const target = chatTarget();
    setText(dom.chatContext, target ? target.label : 'Start a call or pick someone to message.');
  }

  function bind() {
    dom.chatForm.addEventListener('submit', onSubmit);
    dom.chatTo.addEventListener('change', renderComposer);
  }

  return { onChat, resendPending, renderComposer, bind };
}
