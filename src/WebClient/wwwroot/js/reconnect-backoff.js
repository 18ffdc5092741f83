// Exponential backoff with "equal jitter" (half fixed, half random), so a relay restart is not
// stormed by every client at once.
export function reconnectDelay(attempt, { baseMs, maxMs }, random = Math.random) {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 10));
  return cap / 2 + random() * cap / 2;
}
