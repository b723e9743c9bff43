import { readProtocolFile } from "../paths.js";

/**
 * The constants of protocol/wire.json, which the Python worker reads too. This is the one module that
 * reads that file; the unions below are written out so the compiler knows them, and
 * test/wire/protocol.test.ts checks them against the file.
 */
export const OPS = [
  "hello", "echo", "sleep", "raise",
  "model.load", "model.build", "model.run", "model.predict", "model.weights", "model.dispose", "model.save", "model.export", "npz.load",
  "serve.load", "serve.predict", "serve.unload", "py.start", "py.put", "py.get", "model.onnx",
] as const;
/** An operation of the wire format (docs/wire.md#ops); its index here is its code in a header. */
export type Op = (typeof OPS)[number];

export const ERROR_KINDS = ["python", "bad_request", "model", "cancelled", "too_large"] as const;
/** `error.kind` of a failed reply. */
export type ErrorKind = (typeof ERROR_KINDS)[number];

export const CONTROL_TO_WORKER = ["heartbeat", "cancel", "disconnect", "rejoin"] as const;
export type ControlToWorker = (typeof CONTROL_TO_WORKER)[number];
export const CONTROL_FROM_WORKER = ["ready", "heartbeat", "progress", "leaving"] as const;
export type ControlFromWorker = (typeof CONTROL_FROM_WORKER)[number];

/** What a header's `kind` field says the message is; the index is the code on the wire. */
export const KINDS = ["request", "reply", "error", "control"] as const;
export type Kind = (typeof KINDS)[number];
/** Every control message, either way; the index is its code in a control header. */
export const CONTROLS = ["ready", "heartbeat", "cancel", "disconnect", "rejoin", "progress", "leaving"] as const;
export type Control = (typeof CONTROLS)[number];

type StructCode = "u8" | "u16" | "u32" | "u64";

interface HeaderFile {
  fixed: [string, StructCode][];
  fixedBytes: number;
  descriptor: [string, StructCode][];
  descriptorBytes: number;
  dimBytes: number;
  kinds: string[];
  controls: string[];
  flags: { id: number; deadline: number; progress: number };
}

interface WireFile {
  version: number;
  header: HeaderFile;
  maxId: number;
  ops: string[];
  errorKinds: string[];
  idempotentOps: string[];
  control: { workerToPool: string[]; poolToWorker: string[]; heartbeatMs: number; liveness: number; heartbeatRoutingIdSuffix: string; maxMessageBytes: number };
}

/** protocol/wire.json as read at load time. */
export const WIRE: Readonly<WireFile> = readProtocolFile<WireFile>("wire.json");
/** The header's layout (docs/wire.md#header). */
export const HEADER: Readonly<HeaderFile> = WIRE.header;
const SIZES: Record<StructCode, number> = { u8: 1, u16: 2, u32: 4, u64: 8 };
/** Byte offset of each fixed header field, from the layout in wire.json. */
export const HEADER_OFFSETS: Readonly<Record<string, number>> = (() => {
  const offsets: Record<string, number> = {};
  let at = 0;
  for (const [name, code] of WIRE.header.fixed) {
    offsets[name] = at;
    at += SIZES[code];
  }
  if (at !== WIRE.header.fixedBytes) throw new Error(`protocol/wire.json: the fixed header fields take ${at} bytes, not ${WIRE.header.fixedBytes}`);
  return offsets;
})();
/** The wire format version this client speaks. */
export const WIRE_VERSION: number = WIRE.version;
/** Request ids and deadlines stay at or below 2^53 − 1, the integers both languages hold exactly. */
export const MAX_ID: number = WIRE.maxId;
/** Ops a pool retries once on another worker when theirs dies. */
export const IDEMPOTENT_OPS: ReadonlySet<string> = new Set(WIRE.idempotentOps);
/** The default cap on one message, all frames counted. */
export const MAX_MESSAGE_BYTES: number = WIRE.control.maxMessageBytes;
export const HEARTBEAT_MS: number = WIRE.control.heartbeatMs;
export const LIVENESS: number = WIRE.control.liveness;
/** What a ZeroMQ worker's heartbeat DEALER adds to its routing id (docs/wire.md#control-messages-and-pools). */
export const HEARTBEAT_ROUTING_ID_SUFFIX: Buffer = Buffer.from(WIRE.control.heartbeatRoutingIdSuffix, "hex");
