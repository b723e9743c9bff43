import { describe, expect, it } from "vitest";
import { BadRequestError, ModelError, PythonError, RequestAbortedError, RequestTimeoutError, SpecError, lstmModel, ndarray, zeros } from "../../src/index.js";
import { frontEnds, sharedClient } from "./front-ends.js";

/** The failures both front ends must handle alike: one suite, run against each (issue 10). */
describe.each(frontEnds())("%s", (_, start) => {
  const client = sharedClient(start);

  describe("Python exceptions", () => {
    it("arrive as PythonError with type, message and traceback as data", async () => {
      const error = await client().call("raise", { type: "ZeroDivisionError", message: "division by zero" }).catch((e) => e);
      expect(error).toBeInstanceOf(PythonError);
      expect(error).toMatchObject({ pythonType: "ZeroDivisionError", pythonMessage: "division by zero" });
      expect(error.traceback.at(-1)).toMatchObject({ function: "raise_", code: expect.stringContaining("raise") });
      const printed = error.formatTraceback();
      expect(printed).toMatch(/^Traceback \(most recent call last\):\n/);
      expect(printed).toMatch(/ {2}File ".*ops\.py", line \d+, in raise_\n {4}raise cls\(str\(message\)\)\nZeroDivisionError: division by zero$/);
      expect(error.message).not.toMatch(/\x1b\[/); // data, not coloured text
    });

    it("a request the worker cannot parse is a BadRequestError, and the worker serves on", async () => {
      // @ts-expect-error: an op no worker knows, sent on purpose
      await expect(client().call("no.such.op")).rejects.toThrow(BadRequestError);
      // @ts-expect-error: the same
      await expect(client().call("no.such.op")).rejects.toThrow(/unknown op 'no.such.op'/);
      expect((await client().echo([zeros("int8", [1])])).length).toBe(1);
    });
  });

  describe("bad specs", () => {
    it("are refused in TypeScript, before anything reaches Python", async () => {
      const error = await client().runLstm({ units: -3, inputShape: [10, 1] }, zeros("float32", [1, 10, 1])).catch((e) => e);
      expect(error).toBeInstanceOf(SpecError);
      expect(error).toMatchObject({ field: "units" });
    });

    it("are refused again by the worker, which never trusts the wire", async () => {
      const { config } = lstmModel({ units: 4, inputShape: [10, 1] });
      config.config.layers[1]!.config.units = -3; // past the TypeScript check, straight onto the wire
      const error = await client()
        .call("model.run", { config, inputs: 1, weights: [], seed: 0 }, [zeros("float32", [1, 10, 1])])
        .catch((e) => e);
      expect(error).toBeInstanceOf(ModelError);
      expect(error).toMatchObject({ fromWorker: true });
      expect(error.message).toMatch(/units/);
    });

    it("a wrongly shaped input is named before sending", async () => {
      await expect(client().runLstm({ units: 4, inputShape: [10, 1] }, zeros("float32", [1, 9, 1]))).rejects.toThrow(/input: must have shape \[batch, 10, 1\]/);
    });
  });

  describe("timeouts and aborts", () => {
    it("a deadline of 0 or less is always a RequestTimeoutError, whichever side notices first (issue 23)", async () => {
      // The worker's `cancelled` (past its deadline before it ran) raced this side's timer: 100 of 120 were RequestAbortedError.
      for (let i = 0; i < 30; i++) {
        for (const timeoutMs of [0, -1]) {
          await expect(client().echo([zeros("float32", [2])], { timeoutMs })).rejects.toThrow(RequestTimeoutError);
        }
      }
    });

    it("a timeout rejects the request and the worker stays usable", async () => {
      // Order, not elapsed time: the timeout settles before an echo queued behind the sleep (one worker).
      const events: string[] = [];
      const slept = client().call("sleep", { seconds: 1.5 }, [], { timeoutMs: 200 }).finally(() => events.push("sleep settled"));
      const echoed = client().echo([ndarray("int32", [1], new Int32Array([7]))]).finally(() => events.push("echo settled"));
      await expect(slept).rejects.toThrow(RequestTimeoutError);
      const [back] = await echoed;
      expect(back!.data[0]).toBe(7);
      expect(events).toEqual(["sleep settled", "echo settled"]);
    });

    it("a request given up on before it ran is skipped by the worker", async () => {
      const first = client().call("sleep", { seconds: 0.5 });
      const abandoned = client().call("sleep", { seconds: 3600 }, [], { timeoutMs: 100 }); // queued behind the first
      await expect(abandoned).rejects.toThrow(RequestTimeoutError);
      await first;
      // Had the worker run the abandoned hour-long sleep, this deadline would pass first.
      await expect(client().call("hello", {}, [], { timeoutMs: 60_000 })).resolves.toMatchObject({ result: { protocol: expect.any(Number) } });
    });

    it("an AbortSignal rejects the request with its reason", async () => {
      const controller = new AbortController();
      const pending = client().call("sleep", { seconds: 0.5 }, [], { signal: controller.signal });
      controller.abort(new Error("user gave up"));
      await expect(pending).rejects.toThrow(RequestAbortedError);
      await expect(client().call("hello", {}, [], { signal: AbortSignal.abort() })).rejects.toThrow(/aborted/);
    });
  });

  describe("progress", () => {
    it("onProgress hears the worker's phases, and the reply still comes", async () => {
      const phases: string[] = [];
      const spec = { units: 3, inputShape: [2, 1] as [number, number] };
      const { output } = await client().runLstm(spec, zeros("float32", [1, 2, 1]), { onProgress: (e) => phases.push(e.phase) });
      expect(output.shape).toEqual([1, 3]);
      expect(phases).toContain("run");
    });

    it("an onProgress callback that throws costs a warning, not the reply (nor the replies read with it)", async () => {
      const spec = { units: 3, inputShape: [2, 1] as [number, number] };
      const runs = [0, 1, 2].map(() => client().runLstm(spec, zeros("float32", [1, 2, 1]), { onProgress: () => { throw new Error("a bug in the caller's callback"); } }));
      for (const { output } of await Promise.all(runs)) expect(output.shape).toEqual([1, 3]);
    });
  });
});
