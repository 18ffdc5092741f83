// What the relays asked this sender to keep its video under (docs/protocol.md, media.quality), and what that leaves
// of the user's own settings. Pure: the time is passed in.
import { QualitySteps } from './protocol.js';

/** A relay's advice is forgotten this long after it was given (a relay repeats a step above 0 every 5 s). */
export const ADVICE_TTL_MS = 15_000;

export class QualityAdvice {
  constructor() {
    /** callId -> Map(relayId -> { level, reason, at }) */
    this.byCall = new Map();
  }

  /** Records one media.quality message; returns the call's step after it. */
  record(msg, now) {
    const level = Number.isInteger(msg.level) ? Math.min(Math.max(msg.level, 0), QualitySteps.length - 1) : 0;
    let relays = this.byCall.get(msg.callId);
    if (!relays) { relays = new Map(); this.byCall.set(msg.callId, relays); }
    relays.set(String(msg.relayId ?? ''), { level, reason: String(msg.reason ?? ''), at: now });
    return this.step(msg.callId, now);
  }

  /** The lowest step (highest level) among each relay's latest advice still fresh, with its reason. */
  step(callId, now) {
    const relays = this.byCall.get(callId);
    let worst = { level: 0, reason: '' };
    if (!relays) return { ...QualitySteps[0], reason: worst.reason };
    for (const [relay, advice] of relays) {
      if (now - advice.at > ADVICE_TTL_MS) { relays.delete(relay); continue; }
      if (advice.level > worst.level) worst = advice;
    }
    return { ...QualitySteps[worst.level], reason: worst.reason };
  }

  forget(callId) { this.byCall.delete(callId); }
}

/** The user's settings under a step's caps: a cap never raises what the user chose. */
export function capSettings(settings, step) {
  const min = (a, b) => (b == null ? a : Math.min(a, b));
  let { width, height } = settings;
  if (step.maxWidth != null && step.maxHeight != null && (width > step.maxWidth || height > step.maxHeight)) {
    const scale = Math.min(step.maxWidth / width, step.maxHeight / height);
    width = Math.round((width * scale) / 2) * 2;
    height = Math.round((height * scale) / 2) * 2;
  }
  return { width, height, quality: min(settings.quality, step.maxJpegQuality), fps: min(settings.fps, step.maxFps) };
}
