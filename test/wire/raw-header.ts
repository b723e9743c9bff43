import { DTYPE_CODES } from "../../src/wire/dtypes.js";
import { HEADER, HEADER_OFFSETS, OPS, WIRE_VERSION } from "../../src/wire/protocol.js";

/** Fields of a hand-made v2 header; any may be out of range, to test how a reader refuses it. */
export interface RawHeader {
  version?: number;
  kind?: number;
  code?: number;
  flags?: number;
  id?: bigint;
  deadlineMs?: bigint;
  /** dtype by name or by raw code, and the shape. */
  arrays?: { dtype: string | number; shape: number[] }[];
  /** Declared array count, when it should disagree with `arrays`. */
  arrayCount?: number;
  json?: string;
  /** Declared JSON length, when it should disagree with `json`. */
  jsonBytes?: number;
}

/** A header frame laid out byte by byte from protocol/wire.json, bypassing the codec's checks. */
export function rawHeader(h: RawHeader = {}): Buffer {
  const arrays = h.arrays ?? [];
  const json = Buffer.from(h.json ?? "", "utf8");
  const fixed = Buffer.alloc(HEADER.fixedBytes);
  const o = HEADER_OFFSETS;
  fixed.writeUInt8(h.version ?? WIRE_VERSION, o.version!);
  fixed.writeUInt8(h.kind ?? 0, o.kind!);
  fixed.writeUInt16LE(h.code ?? OPS.indexOf("echo"), o.code!);
  fixed.writeUInt16LE(h.flags ?? HEADER.flags.id, o.flags!);
  fixed.writeUInt16LE(h.arrayCount ?? arrays.length, o.arrayCount!);
  fixed.writeBigUInt64LE(h.id ?? 1n, o.id!);
  fixed.writeBigUInt64LE(h.deadlineMs ?? 0n, o.deadlineMs!);
  fixed.writeUInt32LE(h.jsonBytes ?? json.length, o.jsonBytes!);
  const parts = [fixed];
  for (const a of arrays) {
    const d = Buffer.alloc(HEADER.descriptorBytes + a.shape.length * HEADER.dimBytes);
    d.writeUInt8(typeof a.dtype === "number" ? a.dtype : DTYPE_CODES.indexOf(a.dtype as never), 0);
    d.writeUInt8(a.shape.length, 1);
    a.shape.forEach((n, i) => d.writeBigUInt64LE(BigInt(n), HEADER.descriptorBytes + i * HEADER.dimBytes));
    parts.push(d);
  }
  return Buffer.concat([...parts, json]);
}
