// Who is online, and the sidebar list with a Call/Add button per person.
import { ParticipantState } from './protocol.js';
import { el, setText, show } from './ui.js';
import { currentCall, isLiveForMe, myId, nameOf } from './call-state.js';

export function createPresence(ctx) {
  const { state, dom } = ctx;

  /** The hello snapshot replaces the list: presence events missed while disconnected are not replayed. */
  function applySnapshot(online) {
    state.online.clear();
    for (const u of online) if (u.userId !== state.me.userId) state.online.set(u.userId, u.displayName);
  }

  function onPresence(msg) {
    if (msg.userId === myId(state)) return;
    if (msg.online) state.online.set(msg.userId, msg.displayName ?? nameOf(state, msg.userId));
    else state.online.delete(msg.userId);
    ctx.renderAll();
  }

  function render() {
    const users = [...state.online.entries()].sort((a, b) => a[1].localeCompare(b[1]) || a[0] - b[0]);
    const cur = currentCall(state);
    const inCall = isLiveForMe(state, cur);
    const seen = new Set();
    let prev = null;
    for (const [userId, name] of users) {
      seen.add(userId);
      let li = dom.presenceList.querySelector(`:scope > [data-user-id="${userId}"]`);
      if (!li) {
        const btn = el('button', {
          type: 'button', className: 'btn btn-small', dataset: { testid: `call-user-${userId}` },
          onclick: () => ctx.calls.startCall(userId),
        });
        li = el('li', { dataset: { testid: `presence-user-${userId}`, userId: String(userId) } },
          el('span', { className: 'presence-name' }), btn);
      }
      if (li.dataset.name !== name) {
        li.dataset.name = name;
        setText(li.querySelector('.presence-name'), name);
      }
      const btn = li.querySelector('button');
      const inThisCall = inCall && cur.participants.some((p) => p.userId === userId
        && (p.state === ParticipantState.JOINED || p.state === ParticipantState.INVITED));
      const label = inCall ? 'Add' : 'Call';
      setText(btn, label);
      btn.setAttribute('aria-label', `${label} ${name}`);
      btn.disabled = inThisCall;
      // Keep order without moving focused nodes unnecessarily.
      const expectedNext = prev ? prev.nextElementSibling : dom.presenceList.firstElementChild;
      if (expectedNext !== li) {
        if (prev) prev.after(li); else dom.presenceList.prepend(li);
      }
      prev = li;
    }
    for (const li of [...dom.presenceList.children]) {
      if (!seen.has(Number(li.dataset.userId))) li.remove();
    }
    show(dom.presenceEmpty, users.length === 0);
  }

  return { applySnapshot, onPresence, render };
}
