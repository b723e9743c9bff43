import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { Bridge, BridgeClosedError, ProxyUsageError, type PyProxy, PythonError, WorkerDiedError, ndarray } from "../../src/index.js";
import { sharedBridge } from "../helpers.js";

const bridge = sharedBridge();

describe("proxies to Python objects, in the data plane's worker process", () => {
  it("np.arange comes back as an NDArray over the binary path", async () => {
    const np = await bridge().python.import("numpy");
    const a = await bridge().python.toNDArray(np.arange!(6));
    expect(a.dtype).toBe("int64");
    expect(a.shape).toEqual([6]);
    expect(Array.from(a.data as BigInt64Array, Number)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("a tf.constant comes back as an NDArray", async () => {
    const tf = await bridge().python.import("tensorflow");
    const t = await bridge().python.toNDArray(tf.constant([[1.5, 2], [3, 4]]));
    expect(t).toMatchObject({ dtype: "float32", shape: [2, 2] });
    expect(Array.from(t.data as Float32Array)).toEqual([1.5, 2, 3, 4]);
  });

  it("an NDArray argument arrives in Python as an np.ndarray, not as JSON", async () => {
    const np = await bridge().python.import("numpy");
    const builtins = await bridge().python.builtins();
    const x = ndarray("float32", [2, 2], new Float32Array([1, 2, 3, 4.5]));
    expect(await builtins.repr!(x)).toBe("array([[1. , 2. ],\n       [3. , 4.5]], dtype=float32)");
    const total = await np.sum(x);
    expect(Number(await (total as unknown as { item(): Promise<number> }).item())).toBe(10.5);
  });

  it("Python can call back into a JS function passed as an argument", async () => {
    const builtins = await bridge().python.builtins();
    const applyAll = (await builtins.eval!("lambda f, xs: [f(x) for x in xs]")) as PyProxy;
    const mapped = (await applyAll((x: number) => x * 10, [1, 2, 3])) as PyProxy;
    expect(await mapped.valueOf!()).toEqual([10, 20, 30]);
  });

  it("one interpreter: the worker process serves both channels", async () => {
    const os = await bridge().python.import("os");
    expect(await os.getpid!()).toBe(bridge().pid);
  });

  it("a Python exception is the same typed PythonError as on the data plane", async () => {
    const np = await bridge().python.import("numpy");
    const error = await np.reshape!(await np.arange!(12), [5, 5]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PythonError);
    expect(error).toMatchObject({ pythonType: "ValueError", pythonMessage: "cannot reshape array of size 12 into shape (5,5)" });
    expect((error as PythonError).traceback.length).toBeGreaterThan(0);
    expect((error as PythonError).message).not.toMatch(/\x1b\[/);
  });
});

describe("proxy misuse", () => {
  it("an un-awaited proxy argument is refused with ProxyUsageError before it is sent, and the channel keeps working", async () => {
    const own = await Bridge.start();
    try {
      const np = await own.python.import("numpy");
      const error = await np.reshape!(np.arange!(10), [2, 5]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProxyUsageError);
      expect((error as Error).message).toMatch(/argument 1 of reshape is a Promise: await it first/);
      // The next proxied calls still work (they used to get the same error, or crash Node).
      const total = (await np.sum!(await np.arange!(10))) as PyProxy;
      expect(Number(await total.item!())).toBe(45);
      const kw = await np.full$!([2], { fill_value: np.float32!(1.5) }).catch((e: unknown) => e);
      expect(kw).toBeInstanceOf(ProxyUsageError);
      expect((kw as Error).message).toMatch(/argument fill_value of full is a Promise/);
      expect(await own.python.toNDArray(np.ones!(2))).toMatchObject({ shape: [2] });
    } finally {
      await own.close();
    }
  });
});

describe("lifecycle", () => {
  it("a Python killed during a proxied call rejects it at once with WorkerDiedError", async () => {
    const own = await Bridge.start();
    try {
      const time = await own.python.import("time");
      const call = time.sleep!(30);
      await new Promise((r) => setTimeout(r, 200));
      const killedAt = Date.now();
      process.kill(own.pid!, "SIGKILL");
      const error = await call.catch((e: unknown) => e);
      expect(Date.now() - killedAt).toBeLessThan(1000);
      expect(error).toBeInstanceOf(WorkerDiedError);
      await expect(time.sleep!(1)).rejects.toThrow(WorkerDiedError);
    } finally {
      await own.close();
    }
  });

  it("close rejects proxied calls in flight", async () => {
    const own = await Bridge.start();
    const time = await own.python.import("time");
    const call = expect(time.sleep!(30)).rejects.toThrow(BridgeClosedError);
    await new Promise((r) => setTimeout(r, 100));
    await own.close();
    await call;
  });

  it("a script that exits without closing its Bridge or Pool leaves nothing in $TMPDIR", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tfbridge-abandon-"));
    const scratch = join(dir, "tmp");
    try {
      writeFileSync(join(dir, "abandons.mts"), `
        import { Bridge, Pool } from ${JSON.stringify(new URL("../../src/index.ts", import.meta.url).pathname)};
        const bridge = await Bridge.start();
        await bridge.python.import("numpy");
        await Pool.start({ size: 1 });
        process.exit(3); // no close(): the workers' and the pool's private folders must go anyway`);
      mkdirSync(scratch);
      const run = promisify(execFile)(process.execPath, ["--import", "tsx", join(dir, "abandons.mts")], {
        timeout: 60_000,
        env: { ...process.env, TMPDIR: scratch, TSX_DISABLE_CACHE: "1" },
      });
      expect(await run.then(() => 0, (e: { code: number }) => e.code)).toBe(3);
      expect(readdirSync(scratch)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("after `await using` ends, Node exits on its own", async () => {
    const script = `
      import { Bridge } from ${JSON.stringify(new URL("../../src/index.ts", import.meta.url).pathname)};
      {
        await using bridge = await Bridge.start();
        const np = await bridge.python.import("numpy");
        await bridge.python.toNDArray(np.ones(3));
      }
      console.log("done");`;
    const dir = mkdtempSync(join(tmpdir(), "tfbridge-exit-"));
    try {
      writeFileSync(join(dir, "exits.mts"), script);
      // execFile's timeout kills a child that hangs, which then fails the test instead of hanging it.
      const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", join(dir, "exits.mts")], { timeout: 60_000 });
      expect(stdout.trim()).toBe("done");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
