// The transient error banner, and wording for failed relay requests.
import { setText, show } from './ui.js';

const REQUEST_ERRORS = Object.freeze({
  not_connected: 'not connected to the relay',
  disconnected: 'the connection dropped',
  timeout: 'the relay did not answer in time',
  not_found: 'no such call or user',
  not_participant: 'you are not part of that call',
  invalid_state: 'the call cannot do that now',
  rate_limited: 'too many requests, try again',
  unavailable: 'the relay is temporarily unavailable',
});

export function describeRequestError(err, what) {
  const code = err?.code ?? 'error';
  return `Could not ${what}: ${REQUEST_ERRORS[code] ?? err?.message ?? code}.`;
}

/**
 * The banners' hide timers belong to one page, so they live in the instance rather than the module. The recordings view
 * has its own banner: the call view's is hidden while it is open.
 */
export function createNotices(dom) {
  function banner(key) {
    let timer = null;
    /** ms = 0 keeps the banner until the next call. */
    return (text, ms = 6000) => {
      const node = dom[key];
      setText(node, text);
      show(node, !!text);
      clearTimeout(timer);
      if (text && ms) timer = setTimeout(() => show(node, false), ms);
    };
  }
  return { showAppError: banner('appError'), showRecordingsError: banner('recordingsError') };
}
