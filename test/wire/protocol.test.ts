import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CONTROLS, CONTROL_FROM_WORKER, CONTROL_TO_WORKER, ERROR_KINDS, KINDS, OPS } from "../../src/wire/protocol.js";

const wire = JSON.parse(readFileSync(new URL("../../protocol/wire.json", import.meta.url), "utf8"));

describe("the TypeScript unions of protocol constants", () => {
  it("are exactly protocol/wire.json's lists, which the worker reads", () => {
    expect([...OPS]).toEqual(wire.ops);
    expect([...ERROR_KINDS]).toEqual(wire.errorKinds);
    expect([...CONTROL_TO_WORKER]).toEqual(wire.control.poolToWorker);
    expect([...CONTROL_FROM_WORKER]).toEqual(wire.control.workerToPool);
    for (const op of wire.idempotentOps) expect(OPS).toContain(op);
    expect([...KINDS]).toEqual(wire.header.kinds);
    expect([...CONTROLS]).toEqual(wire.header.controls);
    for (const c of [...wire.control.poolToWorker, ...wire.control.workerToPool]) expect(CONTROLS).toContain(c);
  });

  it("lay the header out as the codec writes it: a descriptor is dtype u8, rank u8, name length u16, then u64 dims", () => {
    expect(wire.header.descriptor).toEqual([["dtype", "u8"], ["rank", "u8"], ["nameBytes", "u16"]]);
    expect([wire.header.descriptorBytes, wire.header.dimBytes]).toEqual([4, 8]);
  });
});
