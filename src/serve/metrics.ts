/** Prometheus text exposition (format 0.0.4) of the server's counters and histograms. */

export class Histogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {
    this.counts = new Array(buckets.length).fill(0);
  }

  observe(v: number): void {
    this.sum += v;
    this.count++;
    for (let i = 0; i < this.buckets.length; i++) if (v <= this.buckets[i]) this.counts[i]++;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    this.buckets.forEach((b, i) => lines.push(`${this.name}_bucket{le="${b}"} ${this.counts[i]}`));
    lines.push(
      `${this.name}_bucket{le="+Inf"} ${this.count}`,
      `${this.name}_sum ${this.sum}`,
      `${this.name}_count ${this.count}`,
    );
    return lines.join('\n');
  }
}

/** Counters keyed by one label (e.g. status code). */
export class LabelledCounter {
  private readonly values = new Map<string, number>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly label: string,
  ) {}

  inc(value: string, by = 1): void {
    this.values.set(value, (this.values.get(value) ?? 0) + by);
  }

  get(value: string): number {
    return this.values.get(value) ?? 0;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [v, n] of [...this.values].sort()) lines.push(`${this.name}{${this.label}="${v}"} ${n}`);
    return lines.join('\n');
  }
}

export interface ServerMetrics {
  requests: LabelledCounter;
  inputs: LabelledCounter;
  latency: Histogram;
  batchRows: Histogram;
  batchSeconds: Histogram;
}

export function serverMetrics(): ServerMetrics {
  return {
    requests: new LabelledCounter('minnow_requests_total', 'HTTP requests by status code', 'code'),
    inputs: new LabelledCounter(
      'minnow_inputs_total',
      'texts by outcome (refused: in requests refused after their body was read; a request refused on a full queue before it is read counts in minnow_requests_total only)',
      'outcome',
    ),
    latency: new Histogram(
      'minnow_request_duration_seconds',
      'time from request to response, classify requests',
      [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
    ),
    batchRows: new Histogram(
      'minnow_batch_size',
      'inputs per batch (a batch runs once per padded length)',
      [1, 2, 4, 8, 16, 32, 64, 128, 256],
    ),
    batchSeconds: new Histogram(
      'minnow_batch_duration_seconds',
      'time of one batch (its model runs, one per padded length)',
      [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5],
    ),
  };
}

/** All metrics as one exposition, with the queue depth and the process's memory as gauges. */
export function renderMetrics(m: ServerMetrics, queueDepth: number): string {
  const rss = process.memoryUsage().rss;
  return `${[
    m.requests.render(),
    m.inputs.render(),
    m.latency.render(),
    m.batchRows.render(),
    m.batchSeconds.render(),
    '# HELP minnow_queue_depth inputs waiting for a batch',
    '# TYPE minnow_queue_depth gauge',
    `minnow_queue_depth ${queueDepth}`,
    '# HELP process_resident_memory_bytes resident set size',
    '# TYPE process_resident_memory_bytes gauge',
    `process_resident_memory_bytes ${rss}`,
  ].join('\n')}\n`;
}
