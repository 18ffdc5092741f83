// DOM helpers: small, keyed updates so focus and selections survive re-renders.

export const $ = (id) => document.getElementById(id);

/** Create an element: el('button', {type: 'button', dataset: {testid: 'x'}, text: 'Hi'}, ...children) */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null) continue;
    if (k === 'text') node.textContent = v;
    else if (k === 'className') node.className = v;
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k === 'hidden') node.hidden = !!v;
    else if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

export function setText(node, text) {
  const t = String(text ?? '');
  if (node.textContent !== t) node.textContent = t;
}

export function show(node, visible) {
  if (node.hidden === !visible) return;
  node.hidden = !visible;
}

/**
 * Fill a <select> with options [{value, label}], keeping the current selection when it still exists.
 * Rebuilds only when the option list changed.
 */
export function syncSelect(select, options, placeholder) {
  const key = JSON.stringify(options.map((o) => [o.value, o.label]));
  if (select.dataset.key === key) return;
  const previous = select.value;
  select.replaceChildren();
  if (placeholder && options.length === 0) {
    select.append(el('option', { value: '', text: placeholder, disabled: true, selected: true }));
  }
  for (const o of options) select.append(el('option', { value: String(o.value), text: o.label }));
  if (options.some((o) => String(o.value) === previous)) select.value = previous;
  select.dataset.key = key;
}

/** A remote participant's tile: canvas + name + badges + stats overlay. */
export function createRemoteTile(userId, name) {
  const canvas = el('canvas', {
    width: 320, height: 180, dataset: { testid: `remote-video-${userId}` }, 'aria-label': `Video of ${name}`, role: 'img',
  });
  const cameraOff = el('span', { className: 'badge', dataset: { testid: `remote-camera-off-${userId}` }, text: 'Camera off', hidden: true });
  const muted = el('span', { className: 'badge', dataset: { testid: `remote-muted-${userId}` }, text: 'Muted', hidden: true });
  const stats = el('div', { className: 'tile-stats', dataset: { testid: `remote-stats-${userId}` }, 'aria-hidden': 'true', text: '–' });
  const nameEl = el('figcaption', { className: 'tile-name', text: name });
  const tile = el('figure', {
    className: 'tile tile-remote', dataset: { testid: `remote-tile-${userId}`, userId: String(userId), name },
  }, canvas, el('div', { className: 'tile-badges' }, cameraOff, muted), stats, nameEl);
  return { tile, canvas, cameraOff, muted, stats, nameEl };
}

/**
 * One participant's tile in the replay player: canvas + name. The tile carries data-testid="replay-tile" and the
 * user id; the canvas has its own testid, so tests find either.
 */
export function createReplayTile(userId, name) {
  const canvas = el('canvas', {
    width: 320, height: 180, dataset: { testid: 'replay-canvas', userId: String(userId) }, 'aria-label': `Recorded video of ${name}`, role: 'img',
  });
  const nameEl = el('figcaption', { className: 'tile-name', text: name });
  const tile = el('figure', { className: 'tile tile-replay', dataset: { testid: 'replay-tile', userId: String(userId), name } }, canvas, nameEl);
  return { tile, canvas, nameEl };
}

/** Date and time, for things older than today (a recording). */
export function formatDateTime(iso) {
  const d = iso ? new Date(iso) : null;
  if (!d || Number.isNaN(d.getTime())) return '';
  return d.toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
}

export function formatTime(iso) {
  const d = iso ? new Date(iso) : new Date();
  if (Number.isNaN(d.getTime())) return '';
  return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/** A delivered chat message element. */
export function createChatMessage(msg, { mine, context }) {
  return el('li', {
    className: `chat-message${mine ? ' mine' : ''}`,
    dataset: { testid: 'chat-message', id: String(msg.id), from: String(msg.from) },
  },
  el('div', { className: 'chat-meta' },
    el('span', { className: 'chat-from', text: mine ? 'You' : (msg.fromName ?? `User ${msg.from}`) }),
    context ? el('span', { className: 'chat-context', text: context }) : null,
    el('time', { datetime: msg.sentAt ?? '', text: formatTime(msg.sentAt) })),
  el('div', { className: 'chat-text', text: msg.text }));
}

/** A not yet confirmed message of ours. */
export function createPendingMessage(p, context) {
  return el('li', {
    className: 'chat-message mine pending', dataset: { testid: 'chat-pending', clientMsgId: p.clientMsgId },
  },
  el('div', { className: 'chat-meta' },
    el('span', { text: 'You' }),
    context ? el('span', { text: context }) : null,
    el('span', { className: 'chat-status', text: 'sending…' })),
  el('div', { className: 'chat-text', text: p.text }));
}

export function describeMediaError(kind, err) {
  const what = kind === 'video' ? 'Camera' : 'Microphone';
  const name = err?.name ?? '';
  if (name === 'NotAllowedError' || name === 'SecurityError' || name === 'PermissionDeniedError') return `${what} access was denied.`;
  if (name === 'NotFoundError' || name === 'DevicesNotFoundError' || name === 'OverconstrainedError') return `No ${what.toLowerCase()} was found.`;
  if (name === 'NotReadableError' || name === 'TrackStartError' || name === 'AbortError') return `The ${what.toLowerCase()} is in use or cannot be started.`;
  if (name === 'unsupported') return `${what} capture is not available here (it needs https or localhost).`;
  return `${what} unavailable${err?.message ? ` (${err.message})` : ''}.`;
}
