import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Pool, ndarray } from "../../src/index.js";

/** Resident set size of a process, in MiB, from /proc. */
function rssMiB(pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]);
  return kb / 1024;
}

const WORKER_GROWTH_BOUND_MIB = 32;
const CLIENT_GROWTH_BOUND_MIB = 96;

describe("soak", () => {
  it(`10,000 requests: each worker grows < ${WORKER_GROWTH_BOUND_MIB} MiB, this process < ${CLIENT_GROWTH_BOUND_MIB} MiB`, { timeout: 300_000 }, async () => {
    const pool = await Pool.start({ size: 2 });
    try {
      const payload = ndarray("float32", [256], new Float32Array(256).fill(1)); // 1 KiB
      const run = async (count: number) => {
        for (let sent = 0; sent < count; sent += 200) {
          const replies = await Promise.all(Array.from({ length: 200 }, () => pool.echo([payload])));
          expect(replies.every(([a]) => a!.data.length === 256)).toBe(true);
        }
      };
      await run(2000); // warm-up: caches, allocator pools, JIT
      const pids = pool.workers.map((w) => w.info.pid);
      const before = { workers: pids.map(rssMiB), client: process.memoryUsage().rss / 2 ** 20 };
      await run(10_000);
      const after = { workers: pids.map(rssMiB), client: process.memoryUsage().rss / 2 ** 20 };
      pids.forEach((_, i) => expect(after.workers[i]! - before.workers[i]!).toBeLessThan(WORKER_GROWTH_BOUND_MIB));
      expect(after.client - before.client).toBeLessThan(CLIENT_GROWTH_BOUND_MIB);
      expect(pool.workers.map((w) => w.info.pid)).toEqual(pids); // nobody died on the way
    } finally {
      await pool.close();
    }
  });
});
