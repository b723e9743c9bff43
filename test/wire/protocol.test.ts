import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CONTROL_FROM_WORKER, CONTROL_TO_WORKER, ERROR_KINDS, OPS } from "../../src/wire/protocol.js";

const wire = JSON.parse(readFileSync(new URL("../../protocol/wire.json", import.meta.url), "utf8"));

describe("the TypeScript unions of protocol constants", () => {
  it("are exactly protocol/wire.json's lists, which the worker reads", () => {
    expect([...OPS]).toEqual(wire.ops);
    expect([...ERROR_KINDS]).toEqual(wire.errorKinds);
    expect([...CONTROL_TO_WORKER]).toEqual(wire.control.poolToWorker);
    expect([...CONTROL_FROM_WORKER]).toEqual(wire.control.workerToPool);
    for (const op of wire.idempotentOps) expect(OPS).toContain(op);
  });
});
