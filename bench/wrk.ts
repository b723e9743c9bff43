/**
 * HTTP load from wrk (Debian's `wrk`, a C load generator): closed loop, one connection per client, as
 * bench/load.ts's closedLoop but without a Node client's own CPU on the same two cores. Node's http
 * client costs about as much per request as the server it measures: with it, Node's http alone tops
 * out near 8.9k requests/s here, with wrk near 12k. Every HTTP contender is measured with it alike.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { LoadResult } from "./load.js";
import { round } from "./stats.js";

const exec = promisify(execFile);

/** A wrk script that POSTs `body` and prints the run's counts and its whole latency histogram as JSON. */
function script(body: string): string {
  return `wrk.method = "POST"
wrk.body = [==[${body}]==]
wrk.headers["Content-Type"] = "application/json"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('\\n{"requests":%d,"durationMicros":%d,"status":%d,"broken":%d,"latency":[', summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout))
  for i = 1, #latency do
    local v, c = latency(i)
    io.write(string.format('%s[%d,%d]', i > 1 and "," or "", v, c))
  end
  io.write("]}\\n")
end
`;
}

interface WrkRun {
  /** Answers, of any status. */
  requests: number;
  durationMicros: number;
  /** Answers other than 2xx/3xx (counted in `requests`). */
  status: number;
  /** Connection errors and timeouts (not in `requests`). */
  broken: number;
  /** [microseconds, count] pairs. */
  latency: [number, number][];
}

/**
 * `concurrency` connections POSTing `body` to `path`, spread over `origins` (one wrk per origin, run
 * side by side: FastAPI's processes each listen on a port of their own), for `durationMs` after a
 * discarded warm-up of `warmupMs`. Requests/s is the sum over origins; p50/p99 are of the merged
 * latencies (failed answers included; a run with errors says so in its row).
 */
export async function wrkLoad(origins: string[], path: string, body: string, concurrency: number, durationMs: number, warmupMs: number): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), "tfbridge-wrk-"));
  try {
    const file = join(dir, "post.lua");
    writeFileSync(file, script(body));
    const used = origins.slice(0, Math.min(origins.length, concurrency));
    const run = (seconds: number) =>
      Promise.all(used.map(async (origin, i) => {
        const connections = Math.floor(concurrency / used.length) + (i < concurrency % used.length ? 1 : 0);
        const { stdout } = await exec("wrk", ["-t1", `-c${connections}`, `-d${seconds}s`, "--timeout", "30s", "-s", file, `${origin}${path}`], { maxBuffer: 64 * 1024 * 1024 });
        return JSON.parse(stdout.slice(stdout.lastIndexOf("\n{"))) as WrkRun;
      }));
    await run(Math.max(1, Math.round(warmupMs / 1000)));
    const runs = await run(Math.max(1, Math.round(durationMs / 1000)));
    const merged = runs.flatMap((r) => r.latency).sort((a, b) => a[0] - b[0]);
    const total = merged.reduce((n, [, c]) => n + c, 0);
    const at = (q: number) => {
      let seen = 0;
      for (const [micros, count] of merged) if ((seen += count) > q * total) return micros / 1000;
      return NaN;
    };
    const answered = runs.reduce((n, r) => n + r.requests - r.status, 0);
    const errors = runs.reduce((n, r) => n + r.status + r.broken, 0);
    const seconds = Math.max(...runs.map((r) => r.durationMicros)) / 1e6;
    return { concurrency, requests: answered, errors, requestsPerSecond: round(answered / seconds), p50Ms: round(at(0.5)), p99Ms: round(at(0.99)) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
