// What only a Bridge does: one worker, not replaced. test/failures/ holds what Bridge and Pool share.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { Bridge, BridgeClosedError, WorkerDiedError, WorkerStartError } from "../../src/index.js";

describe("a dying worker", () => {
  it("rejects every in-flight request within a second, with exit signal and stderr tail", async () => {
    const own = await Bridge.start();
    try {
      const inFlight = [own.call("sleep", { seconds: 30 }), ...Array.from({ length: 5 }, () => own.call("hello"))];
      await new Promise((r) => setTimeout(r, 100)); // let the sleep reach Python
      const killedAt = Date.now();
      process.kill(own.pid!, "SIGKILL");
      const results = await Promise.allSettled(inFlight);
      expect(Date.now() - killedAt).toBeLessThan(1000);
      for (const r of results) {
        expect(r.status).toBe("rejected");
        const error = (r as PromiseRejectedResult).reason;
        expect(error).toBeInstanceOf(WorkerDiedError);
        expect(error).toMatchObject({ signal: "SIGKILL", exitCode: null });
        expect(error.stderrTail).toContain("listening");
      }
      await expect(own.call("hello")).rejects.toThrow(WorkerDiedError);
    } finally {
      await own.close();
    }
  });

  it("a worker that cannot start says why", async () => {
    await expect(Bridge.start({ python: "/nonexistent/python" })).rejects.toThrow(WorkerStartError);
    const error = await Bridge.start({ python: "/bin/false" }).catch((e) => e);
    expect(error).toBeInstanceOf(WorkerStartError);
    expect(error.message).toMatch(/exited with code 1/);
    // Nothing of the failed start keeps Node alive (its 120 s start timer did, before).
    const script = `import { Bridge } from "./src/index.ts"; await Bridge.start({ python: "/bin/false" }).catch((e) => console.log(e.name));`;
    const started = Date.now();
    const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8", timeout: 60_000 });
    expect(child.stdout.trim()).toBe("WorkerStartError");
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});

describe("close", () => {
  it("rejects what is in flight, refuses new requests, and can be called twice", async () => {
    const own = await Bridge.start();
    const pending = expect(own.call("sleep", { seconds: 5 })).rejects.toThrow(BridgeClosedError);
    await Promise.all([own.close(), own.close()]);
    await pending;
    await expect(own.call("hello")).rejects.toThrow(BridgeClosedError);
  });
});
