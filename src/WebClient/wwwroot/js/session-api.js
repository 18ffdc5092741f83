// The relay's HTTP session API (sign-in, refresh) and where the session is kept between page loads.
const SESSION_KEY = 'pgvc.session';

export class SignInError extends Error {
  constructor(message, status, problem) {
    super(message);
    this.name = 'SignInError';
    this.status = status;
    this.problem = problem;
  }
}

/** The user-facing message of a problem+json answer: its validation errors, else detail or title. */
export function problemMessage(problem, status) {
  if (!problem || typeof problem !== 'object') return `Sign-in failed (HTTP ${status}).`;
  const parts = [];
  if (problem.errors && typeof problem.errors === 'object') {
    for (const list of Object.values(problem.errors)) {
      if (Array.isArray(list)) parts.push(...list.map(String));
    }
  }
  if (parts.length) return parts.join(' ');
  return problem.detail || problem.title || `Sign-in failed (HTTP ${status}).`;
}

/** When to refresh: at 80 % of the remaining lifetime, at least 10 s from now, at most ~24 days (setTimeout's range). */
export function refreshDelay(expiresAt, now = Date.now()) {
  const exp = expiresAt ? Date.parse(expiresAt) : NaN;
  if (!Number.isFinite(exp)) return null;
  return Math.min(2_000_000_000, Math.max(10_000, (exp - now) * 0.8));
}

export function loadSession() {
  try {
    const raw = sessionStorage.getItem(SESSION_KEY);
    if (!raw) return null;
    const s = JSON.parse(raw);
    if (!s || typeof s.token !== 'string') return null;
    if (s.expiresAt && Date.parse(s.expiresAt) < Date.now()) return null;
    return s;
  } catch { return null; }
}

export function storeSession(session) {
  try {
    if (session) sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
    else sessionStorage.removeItem(SESSION_KEY);
  } catch { /* storage unavailable: the caller keeps it in memory */ }
}

/** POST /api/sessions: the new session, or SignInError with the problem's message. */
export async function signIn(relayUrl, displayName) {
  let res;
  try {
    res = await fetch(`${relayUrl}/api/sessions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json, application/problem+json' },
      body: JSON.stringify({ displayName }),
      mode: 'cors',
    });
  } catch (err) {
    throw new SignInError(`Cannot reach the relay (${err.message}).`, 0, null);
  }
  let body = null;
  try { body = await res.json(); } catch { /* not JSON */ }
  if (!res.ok || !body || typeof body.token !== 'string') {
    throw new SignInError(problemMessage(body, res.status), res.status, body);
  }
  return { userId: body.userId, displayName: body.displayName, token: body.token, expiresAt: body.expiresAt ?? null };
}

/** POST /api/sessions/refresh with the current token: the renewed session, or null. */
export async function refresh(relayUrl, session) {
  try {
    const res = await fetch(`${relayUrl}/api/sessions/refresh`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${session.token}`, Accept: 'application/json' },
      mode: 'cors',
    });
    if (!res.ok) return null;
    const body = await res.json();
    if (typeof body?.token !== 'string') return null;
    return {
      userId: body.userId ?? session.userId,
      displayName: body.displayName ?? session.displayName,
      token: body.token,
      expiresAt: body.expiresAt ?? null,
    };
  } catch { return null; }
}
