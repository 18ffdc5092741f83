// The recordings view: a list of the recordings of calls I took part in, with Play / Export / Delete, and the replay
// player above it. It is a view of the same page rather than a new tab: the session lives in sessionStorage, which is
// per tab, and the WebSocket (and a call going on) stays as it is while the view is open.
import { el, formatDateTime, setText, show } from './ui.js';
import { currentCall, isLiveForMe, myId, nameOf } from './call-state.js';
import { formatBytes, formatLength, formatParticipants, personLabel } from './recordings-format.js';

// Starts and stops arrive in bursts (the call event of everyone in the call): one reload for a burst.
const CHANGE_REFRESH_DELAY_MS = 300;

export function createRecordings(ctx) {
  const { state, dom } = ctx;
  const api = () => ctx.recordingsApi;
  let recordings = [];
  let loaded = false;
  let refreshSeq = 0;
  let changeTimer = null;
  const rows = new Map(); // recording id -> {li, recording}: the handlers read the row's current recording

  const isOpen = () => state.recordingsOpen;

  /** The relay refused the token (401): the session is over, as a 4401 close would say. */
  function signInAgain() {
    state.client?.signOut('Your session is no longer valid. Please sign in again.');
  }

  function fail(err, what) {
    if (err?.unauthorized) { signInAgain(); return; }
    ctx.notices.showRecordingsError(`Could not ${what}: ${String(err?.message ?? err).replace(/\.$/, '')}.`);
  }

  function open() {
    if (isOpen()) { refresh(); return; }
    state.recordingsOpen = true;
    dom.app.dataset.view = 'recordings';
    show(dom.recordingsView, true);
    dom.openRecordings.setAttribute('aria-current', 'page');
    render();
    dom.recordingsTitle.focus();
    refresh();
  }

  /** Back to the call view. The replay stops: its sound would mix with the call's. */
  function close() {
    reset();
    dom.openRecordings.focus();
    ctx.renderAll();
  }

  /** Closes the view without touching focus (sign-out: another user may sign in on this page next). */
  function reset() {
    ctx.replay.close();
    clearTimeout(changeTimer);
    refreshSeq++;
    state.recordingsOpen = false;
    delete dom.app.dataset.view;
    show(dom.recordingsView, false);
    dom.openRecordings.removeAttribute('aria-current');
    recordings = [];
    loaded = false;
    rows.clear();
    dom.recordingsList.replaceChildren();
    show(dom.recordingsEmpty, false);
    setText(dom.recordingsStatus, '');
    ctx.notices.showRecordingsError('');
  }

  async function refresh() {
    if (!isOpen()) return;
    const seq = ++refreshSeq;
    setText(dom.recordingsStatus, 'Loading recordings…');
    dom.recordingsRefresh.disabled = true;
    try {
      const list = await api().list();
      if (seq !== refreshSeq) return;
      recordings = list;
      loaded = true;
      renderList();
      setText(dom.recordingsStatus, `${list.length} recording${list.length === 1 ? '' : 's'}`);
    } catch (err) {
      if (seq !== refreshSeq) return;
      setText(dom.recordingsStatus, '');
      fail(err, 'load the recordings');
    } finally {
      if (seq === refreshSeq) dom.recordingsRefresh.disabled = false;
    }
  }

  /** A call I am in started or stopped a recording. */
  function onRecordingsChanged() {
    if (!isOpen()) return;
    clearTimeout(changeTimer);
    changeTimer = setTimeout(refresh, CHANGE_REFRESH_DELAY_MS);
  }

  function describe(r) {
    return `the recording started by ${personLabel(r.startedBy, myId(state))} on ${formatDateTime(r.startedAt)}`;
  }

  function play(r) {
    ctx.notices.showRecordingsError('');
    ctx.replay.open(r);
  }

  async function exportRecording(r, button) {
    button.disabled = true;
    try {
      const { url } = await api().exportLink(r.id);
      // The link carries its own ticket and the relay answers it as an attachment: the page stays, the file downloads.
      const a = el('a', { href: url, download: `recording-${r.id}.avi`, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
    } catch (err) {
      fail(err, 'export the recording');
    } finally {
      button.disabled = false;
    }
  }

  async function remove(r, button) {
    if (!window.confirm(`Delete ${describe(r)}? This cannot be undone.`)) return;
    button.disabled = true;
    try {
      await api().remove(r.id);
      if (ctx.replay.recordingId === r.id) ctx.replay.close();
      recordings = recordings.filter((x) => x.id !== r.id);
      renderList();
    } catch (err) {
      // Gone already (deleted elsewhere, or expired): what the user wanted; the list catches up.
      if (err?.notFound) refresh(); else fail(err, 'delete the recording');
    } finally {
      button.disabled = false;
    }
  }

  function createRow(id) {
    const row = { li: null, recording: null };
    const by = el('span', { className: 'recording-by', dataset: { testid: 'recording-started-by' } });
    const when = el('time', { className: 'recording-when', dataset: { testid: 'recording-started-at' } });
    const length = el('span', { className: 'recording-length', dataset: { testid: 'recording-length' } });
    const size = el('span', { className: 'recording-size', dataset: { testid: 'recording-size' } });
    const people = el('span', { className: 'recording-participants', dataset: { testid: 'recording-participants' } });
    const playBtn = el('button', { type: 'button', className: 'btn btn-small btn-primary', dataset: { testid: 'recording-play' }, text: 'Play' });
    const exportBtn = el('button', { type: 'button', className: 'btn btn-small', dataset: { testid: 'recording-export' }, text: 'Export' });
    const deleteBtn = el('button', { type: 'button', className: 'btn btn-small btn-danger', dataset: { testid: 'recording-delete' }, text: 'Delete' });
    const li = el('li', { className: 'recording-row', dataset: { testid: 'recording-row', recordingId: String(id) } },
      el('div', { className: 'recording-info' },
        el('p', { className: 'recording-title' }, by, el('span', { 'aria-hidden': 'true', text: ' · ' }), when),
        el('p', { className: 'recording-meta muted small' },
          length, el('span', { 'aria-hidden': 'true', text: ' · ' }), size, el('span', { 'aria-hidden': 'true', text: ' · ' }), people)),
      el('div', { className: 'recording-actions' }, playBtn, exportBtn, deleteBtn));
    // A refresh updates the row in place, so the handlers read its recording when clicked.
    playBtn.addEventListener('click', () => play(row.recording));
    exportBtn.addEventListener('click', () => exportRecording(row.recording, exportBtn));
    deleteBtn.addEventListener('click', () => remove(row.recording, deleteBtn));
    row.li = li;
    return row;
  }

  function updateRow(row, r) {
    const { li } = row;
    row.recording = r;
    const me = myId(state);
    li.dataset.active = String(!!r.active);
    li.classList.toggle('active', !!r.active);
    setText(li.querySelector('.recording-by'), `Started by ${personLabel(r.startedBy, me)}`);
    const when = li.querySelector('.recording-when');
    when.setAttribute('datetime', r.startedAt ?? '');
    setText(when, formatDateTime(r.startedAt));
    setText(li.querySelector('.recording-length'), formatLength(r));
    setText(li.querySelector('.recording-size'), formatBytes(r.bytes));
    setText(li.querySelector('.recording-participants'), formatParticipants(r.participants, me));
    const what = describe(r);
    for (const [testid, verb] of [['recording-play', 'Play'], ['recording-export', 'Export'], ['recording-delete', 'Delete']]) {
      li.querySelector(`[data-testid="${testid}"]`).setAttribute('aria-label', `${verb} ${what}`);
    }
  }

  /** Keyed by id, so a refresh keeps focus on a row's button. Newest first, as the relay lists them. */
  function renderList() {
    const seen = new Set();
    let prev = null;
    for (const r of recordings) {
      const key = String(r.id);
      seen.add(key);
      let row = rows.get(key);
      if (!row) { row = createRow(r.id); rows.set(key, row); }
      updateRow(row, r);
      const { li } = row;
      const expectedNext = prev ? prev.nextElementSibling : dom.recordingsList.firstElementChild;
      if (expectedNext !== li) {
        if (prev) prev.after(li); else dom.recordingsList.prepend(li);
      }
      prev = li;
    }
    for (const [key, row] of rows) {
      if (!seen.has(key)) { row.li.remove(); rows.delete(key); }
    }
    show(dom.recordingsEmpty, loaded && recordings.length === 0);
  }

  /** The call view is out of sight: say so when someone calls, or while I am still in a call. */
  function render() {
    if (!isOpen()) return;
    const incoming = state.incomingCallId != null ? state.calls.get(state.incomingCallId) : null;
    let text = '';
    let action = '';
    if (incoming) {
      const caller = incoming.participants?.find((p) => p.userId === incoming.createdBy);
      text = `${caller?.displayName ?? nameOf(state, incoming.createdBy)} is calling you.`;
      action = 'Back to answer';
    } else if (isLiveForMe(state, currentCall(state))) {
      text = 'You are still in a call.';
      action = 'Back to the call';
    }
    setText(dom.recordingsCallNoteText, text);
    setText(dom.recordingsCallBack, action);
    show(dom.recordingsCallNote, !!text);
  }

  function bind() {
    dom.openRecordings.addEventListener('click', open);
    dom.recordingsClose.addEventListener('click', close);
    dom.recordingsCallBack.addEventListener('click', close);
    dom.recordingsRefresh.addEventListener('click', refresh);
    dom.recordingsView.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape' && !ev.defaultPrevented) close();
    });
  }

  return { open, close, reset, refresh, render, bind, onRecordingsChanged, signInAgain };
}
