// Concurrency pool and token-bucket rate limit for remote checks.

/** A token bucket: `rate` tokens per second, bursts up to `burst`. rate <= 0 means unlimited. */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly rate: number,
    private readonly burst = Math.max(1, rate),
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = this.burst;
    this.last = this.now();
  }

  /** Resolves when a token is available; callers are served in order. */
  take(): Promise<void> {
    if (this.rate <= 0) return Promise.resolve();
    const next = this.queue.then(() => this.wait());
    this.queue = next;
    return next;
  }

  private async wait(): Promise<void> {
    for (;;) {
      const t = this.now();
      this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.rate);
      this.last = t;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await sleep(Math.ceil(((1 - this.tokens) / this.rate) * 1000));
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs `work` over `items` with at most `concurrency` in flight; items are pulled lazily (memory stays flat). */
export async function runPool<T>(items: Iterable<T> | AsyncIterable<T>, concurrency: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  const it = Symbol.asyncIterator in items ? (items as AsyncIterable<T>)[Symbol.asyncIterator]() : toAsync((items as Iterable<T>)[Symbol.iterator]());
  let index = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      await work(r.value, index++);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
}

function toAsync<T>(it: Iterator<T>): AsyncIterator<T> {
  return { next: async () => it.next() };
}
