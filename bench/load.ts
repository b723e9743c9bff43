/** A closed-loop load generator: `concurrency` clients, each sending its next request when its last is answered. */
import { round } from "./stats.js";

export interface LoadResult {
  concurrency: number;
  requests: number;
  /** Requests that failed (each is counted, none retried). */
  errors: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/** The longest a slow contender's window is stretched to collect `concurrency` answers. */
const MAX_WINDOW_MS = 30_000;

/**
 * Runs `send` from `concurrency` clients and summarizes latency over a window of at least `durationMs`
 * that starts once `warmupMs` have passed and every client has had an answer (so the pipeline is full),
 * and ends once at least `concurrency` answers came in it (so a slow contender's p99 means something).
 */
export async function closedLoop(send: () => Promise<unknown>, concurrency: number, durationMs: number, warmupMs: number): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let measuring = false;
  let stop = false;
  let warmed = 0;
  const client = async () => {
    let first = true;
    while (!stop) {
      const t0 = performance.now();
      const ok = await send().then(
        () => true,
        () => false,
      );
      const ms = performance.now() - t0;
      if (measuring) {
        if (ok) latencies.push(ms);
        else errors++;
      }
      if (first) {
        first = false;
        warmed++;
      }
      // A send that settles without I/O (tfjs-node in-process) would otherwise starve the timers.
      await new Promise((r) => setImmediate(r));
    }
  };
  const clients = Array.from({ length: concurrency }, client);
  const until = async (done: () => boolean, limitMs: number) => {
    const end = performance.now() + limitMs;
    while (!done() && performance.now() < end) await new Promise((r) => setTimeout(r, 10));
  };
  const warmupEnds = performance.now() + warmupMs;
  await until(() => performance.now() >= warmupEnds && warmed === concurrency, MAX_WINDOW_MS);
  measuring = true;
  const started = performance.now();
  await until(() => performance.now() - started >= durationMs && latencies.length + errors >= concurrency, MAX_WINDOW_MS);
  measuring = false;
  const seconds = (performance.now() - started) / 1000;
  stop = true;
  await Promise.all(clients);
  const s = latencies.sort((a, b) => a - b);
  const at = (q: number) => (s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))]! : NaN);
  return { concurrency, requests: s.length, errors, requestsPerSecond: round(s.length / seconds), p50Ms: round(at(0.5)), p99Ms: round(at(0.99)) };
}
