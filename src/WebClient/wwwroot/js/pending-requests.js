// Requests waiting for their `ack` or `error`, matched by rid. Pure: the socket is the caller's.
import { MessageType } from './protocol.js';

export class RequestError extends Error {
  constructor(code, message, response) {
    super(message || code);
    this.name = 'RequestError';
    this.code = code;
    this.response = response;
  }
}

export class PendingRequests {
  #pending = new Map(); // rid -> {resolve, reject, timer}
  #prefix;
  #counter = 0;

  constructor(prefix = Math.random().toString(36).slice(2, 8)) {
    this.#prefix = prefix;
  }

  get size() { return this.#pending.size; }

  /** A rid no earlier request of this client used. */
  nextRid() { return `${this.#prefix}-${++this.#counter}`; }

  /**
   * Waits for the answer to `rid`; `send()` puts the request on the wire. Rejects with RequestError
   * `timeout` after `timeoutMs`, and `not_connected` when `send` throws.
   */
  track(rid, type, timeoutMs, send) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.#pending.delete(rid)) reject(new RequestError('timeout', `request ${type} timed out`));
      }, timeoutMs);
      this.#pending.set(rid, { resolve, reject, timer });
      try {
        send();
      } catch (err) {
        clearTimeout(timer);
        this.#pending.delete(rid);
        reject(new RequestError('not_connected', err.message));
      }
    });
  }

  /** Settles the request an `ack` or `error` answers; false when no request waits for it. */
  settle(msg) {
    const p = msg.rid != null ? this.#pending.get(msg.rid) : undefined;
    if (!p) return false;
    this.#pending.delete(msg.rid);
    clearTimeout(p.timer);
    if (msg.type === MessageType.ACK) p.resolve(msg);
    else p.reject(new RequestError(msg.code, msg.message, msg));
    return true;
  }

  /** Fails every waiting request, e.g. with `disconnected` when the socket closes. */
  rejectAll(code) {
    for (const [rid, p] of this.#pending) {
      clearTimeout(p.timer);
      p.reject(new RequestError(code, `request ${rid} failed: ${code}`));
    }
    this.#pending.clear();
  }
}
