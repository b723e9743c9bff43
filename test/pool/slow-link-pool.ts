/**
 * Run by slow-link.test.ts inside the pool's network namespace: a pool listening on the veth address
 * with CurveZMQ, one remote worker across a rate-limited link, and `count` echoes of `mib` MiB each.
 * Prints what happened as JSON: every echo's outcome, the members ever seen and the pool's stats.
 *
 * usage: slow-link-pool.ts ENDPOINT KEYS.json MIB COUNT
 */
import { readFileSync } from "node:fs";
import { Pool, zeros } from "../../src/index.js";

const [endpoint, keysFile, mib, count] = process.argv.slice(2) as [string, string, string, string];
const keys = JSON.parse(readFileSync(keysFile, "utf8")) as { pool: { publicKey: string; secretKey: string }; worker: { publicKey: string } };
const pool = await Pool.start({ size: 0, listen: [endpoint], curve: { ...keys.pool, allowedClients: [keys.worker.publicKey] }, defaultTimeoutMs: 120_000 });
process.stdout.write("listening\n");
await pool.waitForWorkers(1, 120_000);
const outcomes: string[] = [];
const ids = new Set<string>();
const seen = setInterval(() => pool.workers.forEach((w) => ids.add(w.id)), 50);
for (let i = 0; i < Number(count); i++) {
  const x = zeros("float32", [Number(mib) * 262_144]);
  const started = Date.now();
  outcomes.push(await pool.echo([x]).then((r) => `ok ${r[0]!.shape[0] === x.shape[0]} ${Date.now() - started} ms`, (e: Error) => `${e.name}: ${e.message}`));
}
clearInterval(seen);
process.stdout.write(`${JSON.stringify({ outcomes, memberIds: [...ids], stats: pool.stats })}\n`);
await pool.close();
