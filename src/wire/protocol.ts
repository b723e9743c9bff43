import { readProtocolFile } from "../paths.js";

/**
 * The constants of protocol/wire.json, which the Python worker reads too. This is the one module that
 * reads that file; the unions below are written out so the compiler knows them, and
 * test/wire/protocol.test.ts checks them against the file.
 */
export const OPS = [
  "hello", "echo", "sleep", "raise",
  "model.load", "model.build", "model.run", "model.predict", "model.weights", "model.dispose", "model.save", "model.export", "npz.load",
  "serve.load", "serve.predict", "serve.unload", "py.start", "py.put", "py.get",
] as const;
/** An operation of wire format v1 (docs/wire.md#ops). */
export type Op = (typeof OPS)[number];

export const ERROR_KINDS = ["python", "bad_request", "model", "cancelled", "too_large"] as const;
/** `error.kind` of a failed reply. */
export type ErrorKind = (typeof ERROR_KINDS)[number];

export const CONTROL_TO_WORKER = ["heartbeat", "cancel", "disconnect", "rejoin"] as const;
export type ControlToWorker = (typeof CONTROL_TO_WORKER)[number];
export const CONTROL_FROM_WORKER = ["ready", "heartbeat", "progress"] as const;
export type ControlFromWorker = (typeof CONTROL_FROM_WORKER)[number];

interface WireFile {
  version: number;
  maxId: number;
  ops: string[];
  errorKinds: string[];
  idempotentOps: string[];
  control: { workerToPool: string[]; poolToWorker: string[]; heartbeatMs: number; liveness: number; maxMessageBytes: number };
}

/** protocol/wire.json as read at load time. */
export const WIRE: Readonly<WireFile> = readProtocolFile<WireFile>("wire.json");
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
