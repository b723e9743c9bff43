import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BadRequestError, Bridge } from "../../src/index.js";

// The compiler keeps TypeScript callers to the op map (src/wire/ops.ts); the worker checks the same map
// (protocol/ops.json) for everyone else, and says which argument of which op was wrong.
describe("a real worker checks each request's arguments against protocol/ops.json", () => {
  let bridge: Bridge;
  beforeAll(async () => {
    bridge = await Bridge.start();
  });
  afterAll(async () => {
    await bridge.close();
  });

  it("a mistyped argument is a BadRequestError naming op.argument, and the worker serves on", async () => {
    // @ts-expect-error: a path must be a string, sent wrong on purpose
    const error = await bridge.call("model.load", { path: 5 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error).toMatchObject({ field: "model.load.path", message: expect.stringMatching(/^model\.load: argument 'path' must be string, got int/) });
    expect((await bridge.call("hello")).result.ops).toContain("model.load");
  });

  it("so are a missing and an unknown one", async () => {
    // @ts-expect-error: npz.load needs a path
    await expect(bridge.call("npz.load", {})).rejects.toMatchObject({ name: "BadRequestError", field: "npz.load.path" });
    // @ts-expect-error: echo takes no arguments
    await expect(bridge.call("echo", { extra: 1 })).rejects.toMatchObject({ name: "BadRequestError", field: "echo.extra" });
  });
});
