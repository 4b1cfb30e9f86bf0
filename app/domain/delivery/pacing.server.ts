/**
 * Pacing per channel account: the configured rate is never exceeded as the
 * provider counts it, i.e. by arrival, in any one-second window.
 *
 * A token bucket cannot promise that: it lets a full burst follow a second of refill, and it
 * counts when a request leaves, while the provider counts when it arrives (a request that waits
 * on a new connection or a busy event loop arrives late, next to later ones). So a send holds
 * its slot from the moment it starts until one window after its answer: a request's arrival
 * lies between the two, hence any window at the provider sees at most `rate` arrivals (proof:
 * of the sends arriving in one window, the last to start found all others either in flight or
 * answered less than a window before, and a slot is free only when fewer than `rate` are).
 * Releases happen in time order, so the answered times form a sorted queue.
 */

/** A little over a second: clocks tick in whole milliseconds. */
export const WINDOW_MS = 1_010;

class SlidingWindow {
  private inFlight = 0;
  /** Answer times within the last window, oldest first (from `head`). */
  private ends: number[] = [];
  private head = 0;
  private pausedUntil = 0;
  private readonly waiters: Array<() => void> = [];
  private timer: NodeJS.Timeout | null = null;
  lastUsed = 0;

  constructor(
    readonly rate: number,
    private readonly clock: () => number,
  ) {}

  private occupied(now: number): number {
    const cutoff = now - WINDOW_MS;
    const ends = this.ends;
    let head = this.head;
    while (head < ends.length && ends[head]! <= cutoff) head++;
    if (head > 1024 && head * 2 > ends.length) {
      this.ends = ends.slice(head);
      head = 0;
    }
    this.head = head;
    return this.inFlight + (this.ends.length - head);
  }

  /** ms until a slot frees by time alone; Infinity when only an answer can free one. */
  private delay(now: number): number {
    if (now < this.pausedUntil) return this.pausedUntil - now;
    if (this.occupied(now) < this.rate) return 0;
    return this.head < this.ends.length ? this.ends[this.head]! + WINDOW_MS - now : Infinity;
  }

  acquire(): Promise<void> | null {
    const now = this.clock();
    if (this.waiters.length === 0 && this.delay(now) === 0) {
      this.inFlight += 1;
      this.lastUsed = now;
      return null;
    }
    return new Promise<void>((resolve) => {
      this.waiters.push(resolve);
      this.schedule();
    });
  }

  release(): void {
    const now = this.clock();
    this.inFlight -= 1;
    this.ends.push(now);
    this.lastUsed = now;
    this.drain();
  }

  pause(until: number): void {
    if (until > this.pausedUntil) this.pausedUntil = until;
  }

  get idle(): boolean {
    return this.waiters.length === 0 && this.inFlight === 0;
  }

  private schedule(): void {
    if (this.timer || this.waiters.length === 0) return;
    const wait = this.delay(this.clock());
    if (wait === Infinity) return; // a release will drain
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.drain();
      },
      Math.max(1, Math.ceil(wait)),
    );
  }

  private drain(): void {
    while (this.waiters.length > 0) {
      const now = this.clock();
      if (this.delay(now) > 0) break;
      this.inFlight += 1;
      this.lastUsed = now;
      this.waiters.shift()!();
    }
    this.schedule();
  }
}

export class Pacer {
  private readonly windows = new Map<string, SlidingWindow>();

  constructor(
    private readonly clock: () => number = () => performance.timeOrigin + performance.now(),
  ) {}

  /**
   * Resolves when one more send on `key` keeps within `ratePerSecond`; null when it may go at
   * once (no promise on the hot path). Every acquire must be followed by one `release` when the
   * provider has answered (or the request failed).
   */
  acquire(key: string, ratePerSecond: number): Promise<void> | null {
    return this.window(key, ratePerSecond).acquire();
  }

  release(key: string): void {
    this.windows.get(key)?.release();
  }

  /** The provider said "too fast": nobody on this account starts a send for `ms`. */
  pause(key: string, ratePerSecond: number, ms: number): void {
    this.window(key, ratePerSecond).pause(this.clock() + ms);
  }

  /** Forgets idle keys (per-chat windows come and go). */
  prune(idleMs = 60_000): void {
    const cutoff = this.clock() - idleMs;
    for (const [key, window] of this.windows) {
      if (window.idle && window.lastUsed < cutoff) this.windows.delete(key);
    }
  }

  private window(key: string, ratePerSecond: number): SlidingWindow {
    const rate = Math.max(1, Math.floor(ratePerSecond));
    let window = this.windows.get(key);
    // A changed rate applies once the account is idle, so no slot is ever released twice.
    if (!window || (window.rate !== rate && window.idle)) {
      window = new SlidingWindow(rate, this.clock);
      this.windows.set(key, window);
    }
    return window;
  }
}
