import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** What the metrics read from the pool when scraped. */
export interface PoolGauges {
  queued(): number;
  inFlight(): number;
  workers(): number;
  versions(): number;
  /** Counters the pool keeps since start. */
  stats(): { replaced: number; retried: number; heartbeatMisses: number; bytesSent: number; bytesReceived: number };
}

/** Options of a pool's metrics. */
export interface MetricsOptions {
  /** Where the metrics are registered: pass your service's registry to expose them with your own. Default: a registry of the pool's own. */
  registry?: Registry;
  /** Prefix of every metric name. Default `tfbridge_`. */
  prefix?: string;
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** A counter whose value is read from the pool at scrape time. */
function counterOf(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

/**
 * A pool's Prometheus metrics, with prom-client: served requests and errors by model, version and op,
 * latency histograms (queue wait, worker run, total), batch sizes, and the pool's own state at scrape
 * time (queue depth, in flight, workers, restarts, retries, heartbeat misses, bytes on its link).
 */
export class ServingMetrics {
  readonly registry: Registry;
  private readonly requests: Counter<"model" | "version" | "op">;
  private readonly errors: Counter<"model" | "version" | "op" | "error">;
  private readonly total: Histogram<"model" | "version" | "op">;
  private readonly run: Histogram<"model" | "version" | "op">;
  private readonly queueWait: Histogram<"op">;
  private readonly batches: Histogram<"model" | "version">;
  private readonly lazyLoads: Counter<"model" | "version">;

  constructor(gauges: PoolGauges, options: MetricsOptions = {}) {
    const registry = (this.registry = options.registry ?? new Registry());
    const p = options.prefix ?? "tfbridge_";
    const registers = [registry];
    const served = ["model", "version", "op"] as const;
    this.requests = new Counter({ name: `${p}requests_total`, help: "Requests to served models, by model, version and op", labelNames: served, registers });
    this.errors = new Counter({ name: `${p}request_errors_total`, help: "Failed requests to served models, by error class", labelNames: [...served, "error"], registers });
    this.total = new Histogram({ name: `${p}request_duration_seconds`, help: "Served requests: accepted to settled", labelNames: served, buckets: LATENCY_BUCKETS, registers });
    this.run = new Histogram({ name: `${p}worker_run_seconds`, help: "Served requests: the run inside the worker", labelNames: served, buckets: LATENCY_BUCKETS, registers });
    this.queueWait = new Histogram({ name: `${p}queue_wait_seconds`, help: "Every pool request: created to sent to a worker", labelNames: ["op"], buckets: LATENCY_BUCKETS, registers });
    this.batches = new Histogram({ name: `${p}batch_size`, help: "Rows per merged run, padding included", labelNames: ["model", "version"], buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512], registers });
    this.lazyLoads = new Counter({ name: `${p}lazy_loads_total`, help: "Versions loaded on a worker at its first request for them (a worker that joined later)", labelNames: ["model", "version"], registers });
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({ name: `${p}${name}`, help, registers, collect() { this.set(read()); } });
    gauge("queue_depth", "Requests waiting for a worker", gauges.queued);
    gauge("in_flight", "Requests sent to workers and not yet answered", gauges.inFlight);
    gauge("workers", "Live workers", gauges.workers);
    gauge("served_versions", "Model versions loaded", gauges.versions);
    counterOf(registry, `${p}worker_restarts_total`, "Workers replaced after dying or falling silent", () => gauges.stats().replaced);
    counterOf(registry, `${p}requests_retried_total`, "Idempotent requests retried on another worker after theirs died", () => gauges.stats().retried);
    counterOf(registry, `${p}heartbeat_misses_total`, "Heartbeat intervals a worker stayed silent", () => gauges.stats().heartbeatMisses);
    counterOf(registry, `${p}link_sent_bytes_total`, "Bytes the pool sent to workers", () => gauges.stats().bytesSent);
    counterOf(registry, `${p}link_received_bytes_total`, "Bytes the pool received from workers", () => gauges.stats().bytesReceived);
  }

  /** A served request settled: `error` null when it succeeded; `runSeconds` the worker's own time, if known. */
  request(model: string, version: number, op: string, error: Error | null, seconds: number, runSeconds: number | null): void {
    const labels = { model, version: String(version), op };
    this.requests.inc(labels);
    if (error) this.errors.inc({ ...labels, error: error.name });
    this.total.observe(labels, seconds);
    if (runSeconds !== null) this.run.observe(labels, runSeconds);
  }

  /** A request left the pool's queue for a worker after `seconds`. */
  dispatched(op: string, seconds: number): void {
    this.queueWait.observe({ op }, seconds);
  }

  batch(model: string, version: number, rows: number): void {
    this.batches.observe({ model, version: String(version) }, rows);
  }

  lazyLoad(model: string, version: number): void {
    this.lazyLoads.inc({ model, version: String(version) });
  }

  /** The exposition text of every metric in the registry (a service's own too, if it passed its registry). */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
