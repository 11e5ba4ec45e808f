/**
 * The service's only source of time: a virtual clock that runs with wall time and, in
 * time-skipping mode, jumps forward to the next due timer whenever nothing is in progress.
 *
 * Owns timer ordering and the skip decision's mechanics. It must not know what a timer means;
 * whether skipping is allowed is asked through `canSkip`, supplied by the state machine.
 */

export interface TimerHandle {
  cancel(): void;
}

interface Entry {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

export interface ClockOptions {
  timeSkipping: boolean;
  /** Called before each jump: true when no workflow task, activity or client lock holds time. */
  canSkip: () => boolean;
  /** Wall clock, injectable for tests of the clock itself. */
  wallNow?: () => number;
}

// setTimeout overflows above 2^31-1 ms and then fires immediately.
const MAX_DELAY = 2_147_483_647;

export class VirtualClock {
  private offsetMs = 0;
  private seq = 0;
  private readonly heap: Entry[] = [];
  private realTimer: NodeJS.Timeout | undefined;
  private evaluateQueued = false;
  private stopped = false;
  private readonly wallNow: () => number;

  constructor(private readonly opts: ClockOptions) {
    this.wallNow = opts.wallNow ?? Date.now;
  }

  now(): number {
    return this.wallNow() + this.offsetMs;
  }

  get timeSkipping(): boolean {
    return this.opts.timeSkipping;
  }

  /** Runs `fn` once virtual time reaches `atMs`. */
  at(atMs: number, fn: () => void): TimerHandle {
    const entry: Entry = { at: atMs, seq: this.seq++, fn, cancelled: false };
    this.push(entry);
    this.poke();
    return {
      cancel: () => {
        entry.cancelled = true;
      },
    };
  }

  after(delayMs: number, fn: () => void): TimerHandle {
    return this.at(this.now() + Math.max(0, delayMs), fn);
  }

  /**
   * Asks the clock to re-evaluate after the current synchronous state change settles, so a
   * skip decision never sees a half-applied transition.
   */
  poke(): void {
    if (this.evaluateQueued || this.stopped) return;
    this.evaluateQueued = true;
    setImmediate(() => {
      this.evaluateQueued = false;
      this.evaluate();
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.realTimer) clearTimeout(this.realTimer);
    this.heap.length = 0;
  }

  private evaluate(): void {
    if (this.stopped) return;
    if (this.realTimer) {
      clearTimeout(this.realTimer);
      this.realTimer = undefined;
    }
    for (;;) {
      this.dropCancelled();
      const next = this.heap[0];
      if (!next) return;
      const now = this.now();
      if (next.at <= now) {
        this.pop();
        next.fn();
        continue;
      }
      if (this.opts.timeSkipping && this.opts.canSkip()) {
        this.offsetMs += next.at - now;
        continue;
      }
      this.realTimer = setTimeout(() => this.evaluate(), Math.min(MAX_DELAY, next.at - now));
      return;
    }
  }

  private dropCancelled(): void {
    while (this.heap[0]?.cancelled) this.pop();
  }

  private less(a: Entry, b: Entry): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(entry: Entry): void {
    const h = this.heap;
    h.push(entry);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  private pop(): Entry | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
