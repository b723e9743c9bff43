import { describe, expect, it } from "vitest";
import { BadRequestError, Bridge, BridgeClosedError, PythonError, RequestAbortedError, RequestTimeoutError, SpecError, WorkerDiedError, WorkerStartError, ndarray, zeros } from "../../src/index.js";
import { sharedBridge } from "../helpers.js";

const bridge = sharedBridge();

describe("Python exceptions", () => {
  it("arrive as PythonError with type, message and traceback as data", async () => {
    const error = await bridge().call("raise", { type: "ZeroDivisionError", message: "division by zero" }).catch((e) => e);
    expect(error).toBeInstanceOf(PythonError);
    expect(error).toMatchObject({ pythonType: "ZeroDivisionError", pythonMessage: "division by zero" });
    expect(error.traceback.at(-1)).toMatchObject({ function: "raise_", code: expect.stringContaining("raise") });
    const printed = error.formatTraceback();
    expect(printed).toMatch(/^Traceback \(most recent call last\):\n/);
    expect(printed).toMatch(/ {2}File ".*ops\.py", line \d+, in raise_\n {4}raise cls\(str\(message\)\)\nZeroDivisionError: division by zero$/);
    expect(error.message).not.toMatch(/\x1b\[/); // data, not coloured text
  });

  it("a request the worker cannot parse is a BadRequestError, and the worker serves on", async () => {
    await expect(bridge().call("no.such.op")).rejects.toThrow(BadRequestError);
    await expect(bridge().call("no.such.op")).rejects.toThrow(/unknown op 'no.such.op'/);
    expect((await bridge().echo([zeros("int8", [1])])).length).toBe(1);
  });
});

describe("bad specs", () => {
  it("are refused in TypeScript, before anything reaches Python", async () => {
    const error = await bridge().runLstm({ units: -3, inputShape: [10, 1] }, zeros("float32", [1, 10, 1])).catch((e) => e);
    expect(error).toBeInstanceOf(SpecError);
    expect(error).toMatchObject({ field: "units", fromWorker: false });
  });

  it("are refused again by the worker, which never trusts the wire", async () => {
    const error = await bridge()
      .call("lstm.run", { spec: { units: 4, inputShape: [10, 1], activation: "swish" } }, [zeros("float32", [1, 10, 1])])
      .catch((e) => e);
    expect(error).toBeInstanceOf(SpecError);
    expect(error).toMatchObject({ field: "activation", fromWorker: true });
  });

  it("a wrongly shaped input is named before sending", async () => {
    await expect(bridge().runLstm({ units: 4, inputShape: [10, 1] }, zeros("float32", [1, 9, 1]))).rejects.toThrow(/input: must have shape \[batch, 10, 1\]/);
  });
});

describe("timeouts and aborts", () => {
  it("a timeout rejects the request and the worker stays usable", async () => {
    const started = Date.now();
    await expect(bridge().call("sleep", { seconds: 1.5 }, [], { timeoutMs: 200 })).rejects.toThrow(RequestTimeoutError);
    expect(Date.now() - started).toBeLessThan(1000);
    const [back] = await bridge().echo([ndarray("int32", [1], new Int32Array([7]))]);
    expect(back!.data[0]).toBe(7);
  });

  it("a request given up on before it ran is skipped by the worker", async () => {
    const started = Date.now();
    const first = bridge().call("sleep", { seconds: 0.5 });
    const abandoned = bridge().call("sleep", { seconds: 3 }, [], { timeoutMs: 100 }); // queued behind the first
    await expect(abandoned).rejects.toThrow(RequestTimeoutError);
    await first;
    await bridge().call("hello");
    // Had the worker run the abandoned 3 s sleep, this would come after 3.5 s.
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it("an AbortSignal rejects the request with its reason", async () => {
    const controller = new AbortController();
    const pending = bridge().call("sleep", { seconds: 0.5 }, [], { signal: controller.signal });
    controller.abort(new Error("user gave up"));
    await expect(pending).rejects.toThrow(RequestAbortedError);
    await expect(bridge().call("hello", {}, [], { signal: AbortSignal.abort() })).rejects.toThrow(/aborted/);
  });
});

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
