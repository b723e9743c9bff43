import { expect, it } from "vitest";
import { Pool, layers, sequential } from "../../src/index.js";
import { seededInput } from "../../src/random.js";

const metric = (text: string, line: RegExp) => Number(text.split("\n").find((l) => line.test(l))?.split(" ").at(-1) ?? NaN);

/**
 * A served model is loaded on a worker that joined after it lazily, right before the first request
 * that needs it. A request a closing pool drains to such a worker needs that load too.
 */
it("a request drained to a worker that joined after the model's load is answered, not 'not held'", { timeout: 120_000 }, async () => {
  const pool = await Pool.start({ size: 2, perWorkerInFlight: 1 });
  let closed = false;
  try {
    await pool.loadModel({ config: sequential({ inputShape: [3], layers: [layers.dense({ units: 2 })] }), seed: 1 }, { name: "tiny" });
    const [first, second] = pool.workers;
    process.kill(second!.info.pid, "SIGKILL");
    // Its replacement joins without the model.
    for (let t = Date.now(); !(pool.workers.length === 2 && pool.workers.every((w) => w.id !== second!.id)); await new Promise((r) => setTimeout(r, 50))) {
      if (Date.now() - t > 60_000) throw new Error("no replacement joined");
    }
    const replacement = pool.workers.find((w) => w.id !== first!.id)!;
    const held = Promise.allSettled([pool.callOn(first!.id, "sleep", { seconds: 6 }), pool.callOn(replacement.id, "sleep", { seconds: 2 })]);
    const drained = pool.predict("tiny", seededInput([1, 3], 1)); // waits: both are busy
    const closing = pool.close().then(() => (closed = true)); // the replacement frees first, while the pool drains
    const answer = await drained;
    expect(answer.outputs.dense!.shape).toEqual([1, 2]);
    // It went to the replacement, with the model's load ahead of it (not to the first, which holds it).
    expect(metric(await pool.metrics(), /^tfbridge_lazy_loads_total\{model="tiny",version="1"\}/)).toBe(1);
    for (const r of await held) expect(r.status).toBe("fulfilled");
    await closing;
  } finally {
    if (!closed) await pool.close(true);
  }
});
