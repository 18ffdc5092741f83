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

/** The banner's hide timer belongs to one page, so it lives in the instance rather than the module. */
export function createNotices(dom) {
  let timer = null;
  /** ms = 0 keeps the banner until the next call. */
  function showAppError(text, ms = 6000) {
    setText(dom.appError, text);
    show(dom.appError, !!text);
    clearTimeout(timer);
    if (text && ms) timer = setTimeout(() => show(dom.appError, false), ms);
  }
  return { showAppError };
}
