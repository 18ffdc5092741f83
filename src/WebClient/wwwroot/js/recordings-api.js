// The relay's recordings API (/api/recordings): list, read, delete, export link, and the replay stream. Every call takes
// the session's bearer token; errors are problem+json, turned into RecordingsApiError with the problem's words.
import { REPLAY_MEDIA_TYPE } from './replay-stream.js';

export class RecordingsApiError extends Error {
  constructor(message, status, problem) {
    super(message);
    this.name = 'RecordingsApiError';
    this.status = status;     // 0: the relay could not be reached
    this.problem = problem;
  }

  /** The session is no longer valid: the user has to sign in again. */
  get unauthorized() { return this.status === 401; }
  /** The recording does not exist (any more), or the user did not take part in its call: the relay does not say which. */
  get notFound() { return this.status === 404; }
}

async function failure(res) {
  let problem = null;
  try { problem = await res.json(); } catch { /* not JSON */ }
  const text = problem?.detail || problem?.title || `the relay answered HTTP ${res.status}`;
  return new RecordingsApiError(text, res.status, problem);
}

/**
 * @param {() => {relayUrl: string, token: string|null}} auth read at every call: the token is refreshed meanwhile
 */
export function createRecordingsApi(auth) {
  async function call(path, { method = 'GET', accept = 'application/json', signal } = {}) {
    const { relayUrl, token } = auth();
    if (!token) throw new RecordingsApiError('not signed in', 401, null);
    let res;
    try {
      res = await fetch(`${relayUrl}/api/recordings${path}`, {
        method,
        headers: { Authorization: `Bearer ${token}`, Accept: `${accept}, application/problem+json` },
        mode: 'cors',
        cache: 'no-store',
        signal,
      });
    } catch (err) {
      if (err?.name === 'AbortError') throw err;
      throw new RecordingsApiError(`cannot reach the relay (${err.message})`, 0, null);
    }
    if (!res.ok) throw await failure(res);
    return res;
  }

  const id = (recordingId) => encodeURIComponent(String(recordingId));

  return {
    /** Newest first. */
    async list() {
      const body = await (await call('')).json();
      return Array.isArray(body?.recordings) ? body.recordings : [];
    },
    async get(recordingId) { return (await call(`/${id(recordingId)}`)).json(); },
    async remove(recordingId) { await call(`/${id(recordingId)}`, { method: 'DELETE' }); },
    /**
     * An absolute link to the AVI: it carries its own ticket, so a plain navigation downloads it. The relay answers a
     * path on itself; prefixing it (rather than resolving it as a URL) keeps whatever it says on the relay.
     */
    async exportLink(recordingId) {
      const body = await (await call(`/${id(recordingId)}/export`, { method: 'POST' })).json();
      if (typeof body?.url !== 'string') throw new RecordingsApiError('the relay sent no export link', 200, body);
      const path = body.url.startsWith('/') ? body.url : `/${body.url}`;
      return { url: `${auth().relayUrl}${path}`, expiresAt: body.expiresAt ?? null };
    },
    /** The replay stream from `fromMs` on; read its body incrementally (response.body.getReader()). */
    async media(recordingId, fromMs, signal) {
      const from = Math.max(0, Math.floor(fromMs));
      const res = await call(`/${id(recordingId)}/media?fromMs=${from}`, { accept: REPLAY_MEDIA_TYPE, signal });
      if (!res.body) throw new RecordingsApiError('this browser cannot stream a response body', res.status, null);
      return res;
    },
  };
}
