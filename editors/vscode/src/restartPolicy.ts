/**
 * When to restart a crashed server: exponential backoff, and giving up after too many crashes in
 * a short window, so a server that dies at start never becomes a loop of restarts and pop-ups.
 */

export interface RestartDecision {
  /** Restart after this many milliseconds, or give up (null). */
  delayMs: number | null;
  /** Crashes inside the window, this one included. */
  crashes: number;
  /** Tell the user (once per streak: on the first crash, and when giving up). */
  notify: 'first crash' | 'giving up' | null;
}

export class RestartPolicy {
  private crashTimes: number[] = [];

  constructor(
    private readonly maxCrashes = 5,
    private readonly windowMs = 3 * 60_000,
    private readonly baseDelayMs = 1_000,
    private readonly maxDelayMs = 30_000,
  ) {}

  /** Record a crash at `now` and decide what to do. */
  onCrash(now: number): RestartDecision {
    this.crashTimes = this.crashTimes.filter((t) => now - t < this.windowMs);
    this.crashTimes.push(now);
    const crashes = this.crashTimes.length;
    if (crashes > this.maxCrashes) {
      return { delayMs: null, crashes, notify: crashes === this.maxCrashes + 1 ? 'giving up' : null };
    }
    const delayMs = Math.min(this.baseDelayMs * 2 ** (crashes - 1), this.maxDelayMs);
    return { delayMs, crashes, notify: crashes === 1 ? 'first crash' : null };
  }

  /** A manual restart (or a long healthy run) starts a fresh streak. */
  reset(): void {
    this.crashTimes = [];
  }
}
