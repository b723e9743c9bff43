/**
 * Every error tfbridge throws is a {@link TfbridgeError}; its subclass says what went wrong and carries
 * the details as data, so callers branch on `instanceof` rather than on message text.
 */
export class TfbridgeError extends Error {
  override name = "TfbridgeError";
}

/** An LSTM spec, its weights or its input is invalid (checked before anything is sent). `field` names the culprit, e.g. `units`. */
export class SpecError extends TfbridgeError {
  override name = "SpecError";
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

/** One thing wrong with a model: which layer (and argument) and why. */
export interface ModelProblem {
  layer: string;
  class: string;
  reason: string;
  field?: string;
}

/** Where a {@link ModelError} points: the file, the layer, the input, and every problem found. */
export interface ModelErrorDetails {
  file?: string;
  layer?: string;
  input?: string;
  problems?: ModelProblem[];
  /** The archive member at fault (`config.json` in a .keras file, an array in a .npz). */
  member?: string;
  /** The bound a refused file or config is over (protocol/bounds.json; docs/security.md), its value, and what was found. */
  bound?: string;
  limit?: number;
  found?: number;
}

/**
 * A model file, description, weights list or input is unusable: missing or corrupt file, one Keras
 * itself cannot load, a Lambda or custom class (refused before Keras reads the config; every one is
 * listed in `problems`), weights of the wrong shape, an input of the wrong name, shape or dtype,
 * Embedding ids out of range. Raised before anything runs.
 */
export class ModelError extends TfbridgeError {
  override name = "ModelError";
  constructor(
    message: string,
    readonly details: ModelErrorDetails = {},
    /** True when the worker, not the TypeScript side, rejected it. */
    readonly fromWorker = false,
    /** Where in the worker it was raised (empty when raised on this side). */
    readonly traceback: readonly PythonFrame[] = [],
  ) {
    super(message);
  }
}

/** An array's dtype, shape or data do not agree with each other, or a message broke the wire format. */
export class WireError extends TfbridgeError {
  override name = "WireError";
}

/**
 * A message of another wire format version arrived (a v1 JSON header at this v2 half, say): the peer
 * is a tfbridge of another release. `version` is what it speaks, `expected` what this side does.
 */
export class WireVersionError extends WireError {
  override name = "WireVersionError";
  constructor(
    readonly version: number,
    readonly expected: number,
    detail: string,
  ) {
    super(`wire format v${version} ${detail}; this side speaks v${expected}`);
  }
}

/** One frame of a Python traceback. */
export interface PythonFrame {
  file: string;
  line: number | null;
  function: string;
  code: string;
}

/** A Python exception raised while serving a request, with its type, message and traceback as data. */
export class PythonError extends TfbridgeError {
  override name = "PythonError";
  constructor(
    /** The exception's class name, e.g. `ValueError`. */
    readonly pythonType: string,
    readonly pythonMessage: string,
    readonly traceback: readonly PythonFrame[],
  ) {
    super(`${pythonType}: ${pythonMessage}`);
  }

  /** The traceback as Python would print it. */
  formatTraceback(): string {
    const lines = this.traceback.map(
      (f) => `  File "${f.file}", line ${f.line ?? "?"}, in ${f.function}\n    ${f.code}`,
    );
    return ["Traceback (most recent call last):", ...lines, `${this.pythonType}: ${this.pythonMessage}`].join("\n");
  }
}

/**
 * A Python proxy was used in a way that cannot work, found before anything is sent: e.g. an un-awaited
 * proxied call (a Promise) passed as an argument to another proxied call. Await the argument first.
 */
export class ProxyUsageError extends TfbridgeError {
  override name = "ProxyUsageError";
}

/**
 * A command line that cannot run: an unknown flag, a bad or missing value, conflicting flags, a missing
 * or malformed file. The `tfbridge` CLI prints its message and the usage, and exits with status 2.
 */
export class UsageError extends TfbridgeError {
  override name = "UsageError";
}

/** A step of `tfbridge setup` failed: the message names the step and ends with the tail of its output. */
export class SetupError extends TfbridgeError {
  override name = "SetupError";
}

/** The worker rejected a request as malformed (wire format, unknown op, bad arguments). */
export class BadRequestError extends TfbridgeError {
  override name = "BadRequestError";
  constructor(
    message: string,
    /** The argument at fault as `op.argument` (e.g. `model.load.path`), when the worker named one. */
    readonly field?: string,
  ) {
    super(message);
  }
}

/**
 * A message over the size cap (`maxMessageBytes`, all frames counted): a request refused before it is
 * sent, or a reply the worker (or this side) refused. Only that request fails.
 */
export class MessageTooLargeError extends WireError {
  override name = "MessageTooLargeError";
}

/** The worker process exited, or fell silent; every request in flight on it is rejected with this at once. */
export class WorkerDiedError extends TfbridgeError {
  override name = "WorkerDiedError";
  constructor(
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null,
    /** The last lines the worker wrote to stderr (empty for a remote worker). */
    readonly stderrTail: string,
    /** How it was found dead, when not by its exit: e.g. missed heartbeats. */
    readonly reason?: string,
  ) {
    const how = reason ?? (signal ? `was killed by ${signal}` : `exited with code ${exitCode}`);
    super(`Python worker ${how}${stderrTail ? `; its stderr ended with:\n${stderrTail}` : ""}`);
  }
}

/** A pool's queue is full and the pool was configured to refuse rather than wait. */
export class OverloadedError extends TfbridgeError {
  override name = "OverloadedError";
  constructor(
    readonly queued: number,
    why = `the pool's queue is full (${queued} requests waiting)`,
  ) {
    super(why);
  }
}

/** A configuration that would expose workers or clients unsafely, e.g. a non-loopback TCP endpoint without CurveZMQ. */
export class InsecureConfigError extends TfbridgeError {
  override name = "InsecureConfigError";
}

/** The worker could not be started, or its handshake did not match this client. */
export class WorkerStartError extends TfbridgeError {
  override name = "WorkerStartError";
}

/** A request got no reply within its timeout. The worker itself stays usable. */
export class RequestTimeoutError extends TfbridgeError {
  override name = "RequestTimeoutError";
  constructor(
    readonly op: string,
    readonly timeoutMs: number,
  ) {
    super(`${op} got no reply within ${timeoutMs} ms`);
  }
}

/** A request's AbortSignal fired before its reply came. */
export class RequestAbortedError extends TfbridgeError {
  override name = "RequestAbortedError";
  constructor(
    readonly op: string,
    readonly reason: unknown,
  ) {
    super(`${op} was aborted${reason instanceof Error ? `: ${reason.message}` : ""}`);
  }
}

/** A pool serves no model by that name, or not that version of it (never loaded, or unloaded). */
export class ModelNotFoundError extends TfbridgeError {
  override name = "ModelNotFoundError";
  constructor(
    readonly model: string,
    /** The version asked for; null when the default was asked for. */
    readonly version: number | null,
    reason: string,
  ) {
    super(`model ${JSON.stringify(model)}${version === null ? "" : ` version ${version}`}: ${reason}`);
  }
}

/**
 * A model version failed to load (or warm up) on a pool's worker, so no worker serves it. `cause` is
 * the worker's own typed error (a ModelError for a bad file, a PythonError otherwise); `traceback` is
 * where in the worker it was raised.
 */
export class ModelLoadError extends TfbridgeError {
  override name = "ModelLoadError";
  constructor(
    readonly model: string,
    readonly version: number,
    /** The pool's id of the worker that failed, and its process id. */
    readonly worker: { id: string; pid: number },
    override readonly cause: TfbridgeError,
  ) {
    super(`model ${JSON.stringify(model)} version ${version} failed to load on worker ${worker.id} (pid ${worker.pid}): ${cause.message}`);
  }

  get traceback(): readonly PythonFrame[] {
    return this.cause instanceof PythonError || this.cause instanceof ModelError ? this.cause.traceback : [];
  }
}

/** The bridge was closed; no further requests are accepted. */
export class BridgeClosedError extends TfbridgeError {
  override name = "BridgeClosedError";
  constructor() {
    super("the bridge is closed");
  }
}

/**
 * An array that lived in the local link's shared memory was used after its release (`release()` or
 * `using`): its bytes belong to later messages now, so its data is gone.
 */
export class ArrayReleasedError extends TfbridgeError {
  override name = "ArrayReleasedError";
}

/** The local link cannot be set up here: its native addon is not built, or shared memory is unavailable. */
export class LocalLinkUnavailableError extends TfbridgeError {
  override name = "LocalLinkUnavailableError";
}

/**
 * `tfbridge convert` cannot start or finish as asked: OUTDIR exists and is not empty, cannot be
 * written, or the input is not something a TF.js LayersModel can be made from; `details.file` names it.
 */
export class ConvertError extends TfbridgeError {
  override name = "ConvertError";
  constructor(
    message: string,
    readonly details: { file?: string } = {},
  ) {
    super(message);
  }
}
