/**
 * Dynamic batching for the server: concurrent requests queue their encoded inputs; one batch runs at a
 * time, collecting waiting inputs until `maxBatchTokens` (rows x longest row, the padded size the model
 * computes) is reached or the oldest has waited `maxWaitMs` since it arrived. With `maxWaitMs` 0 (the
 * default) a batch starts as soon as the model is free, and the inputs that arrive during a run form the
 * next batch: batches grow with the load and a lone request never waits for company. The queue is
 * bounded: a request that would make it longer than `maxQueue` inputs is refused at once (the server
 * answers 429) instead of waiting without bound.
 */
import type { TokenRow } from '../data/batch.js';

export interface BatcherOptions {
  maxBatchTokens: number;
  maxWaitMs: number;
  maxQueue: number; // inputs waiting, all requests together
}

export class QueueFull extends Error {
  constructor(readonly queued: number) {
    super(`queue full (${queued} inputs waiting)`);
  }
}

interface Pending {
  rows: TokenRow[];
  /** performance.now() when it was queued. */
  since: number;
  resolve(logits: Float32Array[]): void;
  reject(e: unknown): void;
}

/** What a batch run reports, for metrics. */
export interface BatchRecord {
  rows: number;
  tokens: number; // padded
  seconds: number;
}

export class Batcher {
  private readonly queue: Pending[] = [];
  private queued = 0;
  private running = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private idle: (() => void)[] = [];

  constructor(
    private readonly run: (rows: TokenRow[]) => Promise<Float32Array[]>,
    readonly o: BatcherOptions,
    private readonly onBatch: (b: BatchRecord) => void = () => {},
  ) {}

  /** Inputs waiting (not yet in a running batch). */
  get depth(): number {
    return this.queued;
  }

  /** Whether no input more may queue (every request is refused until a batch takes some). */
  get full(): boolean {
    return this.queued >= this.o.maxQueue;
  }

  /** Logits for `rows`, in order, once a batch containing them has run. */
  submit(rows: TokenRow[]): Promise<Float32Array[]> {
    if (this.queued + rows.length > this.o.maxQueue) return Promise.reject(new QueueFull(this.queued));
    return new Promise((resolve, reject) => {
      this.queue.push({ rows, since: performance.now(), resolve, reject });
      this.queued += rows.length;
      this.schedule();
    });
  }

  /** Reject every input still waiting (shutdown past its drain timeout); a running batch finishes. */
  cancelQueued(reason: Error): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const p of this.queue.splice(0)) p.reject(reason);
    this.queued = 0;
    if (!this.running) for (const r of this.idle.splice(0)) r();
  }

  /** Resolves when nothing is queued or running (graceful shutdown waits for this). */
  drained(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  private schedule(): void {
    if (this.running || this.queue.length === 0) return;
    // Inputs that queued behind a run have waited since they arrived, not since the run ended.
    const left = this.queue[0].since + this.o.maxWaitMs - performance.now();
    if (left <= 0 || this.fullBatchWaiting()) {
      this.flush();
      return;
    }
    this.timer ??= setTimeout(() => this.flush(), left);
  }

  /** Whether the waiting inputs already fill a batch. */
  private fullBatchWaiting(): boolean {
    let rows = 0;
    let longest = 0;
    for (const p of this.queue)
      for (const r of p.rows) {
        rows++;
        longest = Math.max(longest, r.ids.length);
        if (rows * longest >= this.o.maxBatchTokens) return true;
      }
    return false;
  }

  /** Take whole requests while the padded batch stays within maxBatchTokens (always at least one). */
  private take(): Pending[] {
    const taken: Pending[] = [];
    let rows = 0;
    let longest = 0;
    while (this.queue.length) {
      const p = this.queue[0];
      const l = Math.max(longest, ...p.rows.map((r) => r.ids.length));
      if (taken.length && (rows + p.rows.length) * l > this.o.maxBatchTokens) break;
      taken.push(this.queue.shift()!);
      rows += p.rows.length;
      longest = l;
    }
    return taken;
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.running || this.queue.length === 0) return;
    const batch = this.take();
    const rows = batch.flatMap((p) => p.rows);
    this.queued -= rows.length;
    this.running = true;
    const t0 = performance.now();
    this.run(rows)
      .then(
        (logits) => {
          this.onBatch({
            rows: rows.length,
            tokens: rows.length * Math.max(...rows.map((r) => r.ids.length)),
            seconds: (performance.now() - t0) / 1000,
          });
          let k = 0;
          for (const p of batch) {
            p.resolve(logits.slice(k, k + p.rows.length));
            k += p.rows.length;
          }
        },
        (e) => {
          for (const p of batch) p.reject(e);
        },
      )
      .finally(() => {
        this.running = false;
        if (this.queue.length) this.schedule();
        else for (const r of this.idle.splice(0)) r();
      });
  }
}
