// Wording of recordings for people: the list's lengths, sizes and names. Pure, for the node tests.
import { formatClock } from './replay-timeline.js';

/** "you" for the signed-in user, else the display name the relay gave. */
export function personLabel(user, meId) {
  if (!user) return 'someone';
  return user.userId === meId ? 'you' : (user.displayName || `User ${user.userId}`);
}

/** A recording's length as m:ss; an active one is still growing. */
export function formatLength(recording) {
  return recording.active ? 'recording…' : formatClock(recording.durationMs ?? 0);
}

/** Size in KB below a MB, else MB (binary units, as the catalog counts them). */
export function formatBytes(bytes) {
  const b = Math.max(0, Number(bytes) || 0);
  if (b < 1024 * 1024) return `${Math.round(b / 1024)} KB`;
  const mb = b / (1024 * 1024);
  return `${mb < 100 ? mb.toFixed(1) : Math.round(mb)} MB`;
}

/** The participants, the signed-in user first as "You", the others by name. */
export function formatParticipants(participants, meId) {
  const list = [...(participants ?? [])];
  list.sort((a, b) => (b.userId === meId) - (a.userId === meId));
  return list.map((p) => (p.userId === meId ? 'You' : (p.displayName || `User ${p.userId}`))).join(', ');
}
