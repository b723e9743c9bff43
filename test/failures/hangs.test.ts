import { describe, expect, it } from "vitest";
import { WorkerDiedError } from "../../src/index.js";
import { frontEnds } from "./front-ends.js";

/**
 * Hang detection by heartbeat, the same on every front end and link (issue 10): a worker that stops
 * (SIGSTOP: alive, silent, answering nothing) is given up on after `liveness` missed heartbeats, and
 * the request it held rejects with WorkerDiedError instead of waiting out its timeout.
 */
describe.each(frontEnds())("%s", (name, start) => {
  it("a worker that stops answering is found by its silence, and its request fails typed", async () => {
    const client = await start();
    try {
      const { pid } = (await client.call("hello")).result;
      const held = client.call("sleep", { seconds: 30 }, [], { timeoutMs: 60_000 });
      await new Promise((r) => setTimeout(r, 200)); // let it reach Python
      const stoppedAt = Date.now();
      process.kill(pid, "SIGSTOP");
      const error = await held.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WorkerDiedError);
      expect((error as Error).message).toMatch(/missed \d+ heartbeats/);
      expect(Date.now() - stoppedAt).toBeLessThan(15_000); // 10 × 500 ms, plus a tick
      // A Bridge's worker holds its state: it is not replaced, and later calls say why. (A pool
      // replaces it: test/pool/supervision.test.ts.)
      if (name.startsWith("Bridge")) await expect(client.call("hello")).rejects.toThrow(/missed \d+ heartbeats/);
      // Either way the stopped process is gone, not left behind.
      await expect.poll(() => { try { process.kill(pid, 0); return true; } catch { return false; } }, { timeout: 10_000 }).toBe(false);
    } finally {
      await client.close();
    }
  }, 180_000);

  it("a worker silent for 3 s (a long garbage collection holding the GIL) is not given up on", async () => {
    // Loading a dozen Keras Applications into one worker made its full collections 0.8-0.9 s long on an
    // idle machine; the bench buried the worker loading InceptionV3 when 2 s of silence was the limit.
    const client = await start();
    try {
      const { pid } = (await client.call("hello")).result;
      const held = client.call("sleep", { seconds: 1 }, [], { timeoutMs: 60_000 });
      await new Promise((r) => setTimeout(r, 200));
      process.kill(pid, "SIGSTOP");
      await new Promise((r) => setTimeout(r, 3000));
      process.kill(pid, "SIGCONT");
      await expect(held).resolves.toMatchObject({ result: { slept: 1 } });
      expect((await client.call("hello")).result.pid).toBe(pid);
    } finally {
      await client.close();
    }
  }, 60_000);
});
