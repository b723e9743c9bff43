import { BadRequestError, MessageTooLargeError, ModelError, type ModelErrorDetails, PythonError, type PythonFrame, RequestAbortedError, type TfbridgeError, WireError } from "../errors.js";
import type { Message } from "../wire/codec.js";
import type { NDArray } from "../wire/ndarray.js";
import { ERROR_KINDS, type ErrorKind } from "../wire/protocol.js";

/** A phase the worker entered while serving a request (see {@link RequestOptions.onProgress}). */
export interface ProgressEvent {
  op: string;
  /**
   * `model.run`: `prepare` (the description's digest, weights, model lookup), `build` (only on a
   * description's first run in a mode: its graph and session, or function — seconds for a large
   * model), then `run`.
   */
  phase: string;
  /** Milliseconds since the request was sent. */
  elapsedMs: number;
}

/** Per-request limits, and progress. */
export interface RequestOptions {
  /** Reject with RequestTimeoutError when no reply came within this many milliseconds (`Infinity`: never). */
  timeoutMs?: number;
  /** Reject with RequestAbortedError when this signal fires first. */
  signal?: AbortSignal;
  /**
   * Called as the worker enters each phase of the request, so that a long first call (a large spec's
   * build can take tens of seconds) is visibly working. Asking for it costs one small message per phase.
   * A Bridge and a Pool both report them (over either link).
   */
  onProgress?: (event: ProgressEvent) => void;
}

/** A successful reply: the worker's `result` object and the arrays that came with it. */
export interface Reply<R = Record<string, unknown>> {
  result: R;
  arrays: NDArray[];
  names: (string | undefined)[];
}

/** The `error` object of a failed reply (docs/wire.md). */
export interface WorkerErrorBody {
  kind: ErrorKind;
  type: string;
  message: string;
  traceback: PythonFrame[];
  /** With `bad_request`: the argument at fault, `op.argument`. */
  field?: string;
  details?: ModelErrorDetails;
}

/** The typed error for a worker's error reply. */
export function replyError(e: WorkerErrorBody): TfbridgeError {
  if (e.kind === "model") return new ModelError(e.message, e.details ?? {}, true, Array.isArray(e.traceback) ? e.traceback : []);
  if (e.kind === "bad_request") return new BadRequestError(e.message, e.field);
  if (e.kind === "cancelled") return new RequestAbortedError("request", new Error(e.message));
  if (e.kind === "too_large") return new MessageTooLargeError(e.message);
  return new PythonError(e.type, e.message, Array.isArray(e.traceback) ? e.traceback : []);
}

function isErrorBody(e: unknown): e is WorkerErrorBody {
  if (typeof e !== "object" || e === null) return false;
  const { kind, type, message } = e as Record<string, unknown>;
  return (ERROR_KINDS as readonly unknown[]).includes(kind) && typeof type === "string" && typeof message === "string";
}

/**
 * A decoded reply message as what its request resolves with, or the typed error it rejects with.
 * A malformed reply (no `ok`, `ok: false` without a usable `error`, a `result` that is no object)
 * becomes a WireError for that request alone; this never throws.
 */
export function replyOutcome({ header, arrays }: Message): { reply: Reply } | { error: TfbridgeError } {
  if (header.ok === true) {
    const result = header.result ?? {};
    if (typeof result !== "object" || result === null || Array.isArray(result)) return { error: new WireError("malformed reply: result is not an object") };
    return { reply: { result: result as Record<string, unknown>, arrays, names: header.arrays.map((d) => d.name) } };
  }
  if (header.ok === false && isErrorBody(header.error)) return { error: replyError(header.error) };
  return { error: new WireError(`malformed reply to request ${header.id}: needs ok: true with a result, or ok: false with an error {kind, type, message}`) };
}
