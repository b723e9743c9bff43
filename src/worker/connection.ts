import { randomBytes } from "node:crypto";
import { Dealer } from "zeromq";
import { BadRequestError, MessageTooLargeError, PythonError, type PythonFrame, RequestAbortedError, RequestTimeoutError, SpecError, type TfbridgeError, WireError } from "../errors.js";
import { type Message, decodeMessage, encodeControl, encodeMessage, messageBytes } from "../wire/codec.js";
import type { NDArray } from "../wire/ndarray.js";
import { ERROR_KINDS, type ErrorKind, MAX_MESSAGE_BYTES } from "../wire/protocol.js";
import { serialSends } from "./send-queue.js";
import { after, deadlineField } from "./timers.js";

/** Per-request limits. */
export interface RequestOptions {
  /** Reject with RequestTimeoutError when no reply came within this many milliseconds (`Infinity`: never). */
  timeoutMs?: number;
  /** Reject with RequestAbortedError when this signal fires first. */
  signal?: AbortSignal;
}

/** A successful reply: the worker's `result` object and the arrays that came with it. */
export interface Reply<R = Record<string, unknown>> {
  result: R;
  arrays: NDArray[];
  names: (string | undefined)[];
}

interface Pending {
  op: string;
  resolve(reply: Reply): void;
  reject(error: Error): void;
}

/** The `error` object of a failed reply (docs/wire.md). */
export interface WorkerErrorBody {
  kind: ErrorKind;
  type: string;
  message: string;
  traceback: PythonFrame[];
  field?: string;
  reason?: string;
}

/** The typed error for a worker's error reply. */
export function replyError(e: WorkerErrorBody): TfbridgeError {
  if (e.kind === "spec") return new SpecError(e.field ?? "spec", e.reason ?? e.message, true);
  if (e.kind === "bad_request") return new BadRequestError(e.message);
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

/** A routing id nobody can guess or pre-empt (libzmq's own are a sequence); it must not start with a zero byte. */
function randomRoutingId(): string {
  return `t${randomBytes(15).toString("base64url")}`;
}

/** Options of a {@link Connection}. */
export interface ConnectionOptions {
  /** The largest message sent or accepted, all frames counted (default wire.json's 1 GiB). */
  maxMessageBytes?: number;
}

/**
 * Requests to one worker over a ZeroMQ DEALER socket, many in flight at once, matched to replies by id.
 * It knows nothing of processes: whoever owns it calls {@link failAll} when the peer is gone.
 */
export class Connection {
  private readonly socket = new Dealer({ linger: 0, sendHighWaterMark: 0, receiveHighWaterMark: 0, routingId: randomRoutingId() });
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private readonly send = serialSends((frames: Buffer[]) => this.socket.send(frames));
  private failure: Error | null = null;
  private readonly maxMessageBytes: number;

  constructor(endpoint: string, options: ConnectionOptions = {}) {
    this.maxMessageBytes = options.maxMessageBytes ?? MAX_MESSAGE_BYTES;
    this.socket.connect(endpoint);
    void this.receiveLoop();
  }

  /** Requests waiting for their reply. */
  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Sends one request and resolves with its reply, or rejects with a typed error.
   * `timeoutMs` may be `Infinity` (no timeout) or longer than setTimeout's 2^31 − 1 ms.
   */
  request<R = Record<string, unknown>>(
    op: string,
    args: Record<string, unknown> = {},
    arrays: readonly NDArray[] = [],
    options: RequestOptions = {},
  ): Promise<Reply<R>> {
    if (this.failure) return Promise.reject(this.failure);
    if (options.signal?.aborted) return Promise.reject(new RequestAbortedError(op, options.signal.reason));
    const id = this.nextId++;
    let frames: Buffer[];
    try {
      // The worker learns the deadline too, and skips the request if it comes due before it runs.
      frames = encodeMessage({ id, op, args, ...deadlineField(options.timeoutMs) }, arrays);
    } catch (e) {
      return Promise.reject(e);
    }
    const size = messageBytes(frames);
    if (size > this.maxMessageBytes) {
      return Promise.reject(new MessageTooLargeError(`${op}: a request of ${size} bytes is over the ${this.maxMessageBytes}-byte message cap`));
    }
    return new Promise<Reply<R>>((resolve, reject) => {
      let cancelTimer = () => {};
      const giveUp = (error: Error) =>
        settle(() => {
          this.send(encodeControl("cancel", id)).catch(() => {}); // the worker drops it if not yet run
          reject(error);
        });
      const onAbort = () => giveUp(new RequestAbortedError(op, options.signal!.reason));
      const settle = (finish: () => void) => {
        if (!this.pending.delete(id)) return;
        cancelTimer();
        options.signal?.removeEventListener("abort", onAbort);
        finish();
      };
      this.pending.set(id, {
        op,
        resolve: (reply) => settle(() => resolve(reply as Reply<R>)),
        reject: (error) => settle(() => reject(error)),
      });
      if (options.timeoutMs !== undefined) {
        cancelTimer = after(options.timeoutMs, () => giveUp(new RequestTimeoutError(op, options.timeoutMs!)));
      }
      options.signal?.addEventListener("abort", onAbort, { once: true });
      this.send(frames).catch((e: Error) => this.pending.get(id)?.reject(new WireError(`could not send ${op}: ${e.message}`)));
    });
  }

  /** Rejects every request in flight, and every later one, with `error`. */
  failAll(error: Error): void {
    this.failure ??= error;
    for (const p of [...this.pending.values()]) p.reject(error);
  }

  /** Closes the socket; requests still in flight are rejected with `error`. */
  close(error: Error): void {
    this.failAll(error);
    this.socket.close();
  }

  private async receiveLoop(): Promise<void> {
    try {
      for await (const frames of this.socket) this.dispatch(frames);
    } catch (e) {
      if (!this.socket.closed) this.failAll(new WireError(`receiving failed: ${(e as Error).message}`));
    }
  }

  private dispatch(frames: Buffer[]): void {
    let message: Message;
    try {
      message = decodeMessage(frames);
    } catch (e) {
      // A reply we cannot read cannot be matched to its request either; the request's timeout stays in force.
      process.emitWarning(`tfbridge: dropped an unreadable reply: ${(e as Error).message}`);
      return;
    }
    const { header } = message;
    const pending = typeof header.id === "number" ? this.pending.get(header.id) : undefined;
    if (!pending) return; // its request already timed out or was aborted
    const size = messageBytes(frames);
    const outcome =
      size > this.maxMessageBytes
        ? { error: new MessageTooLargeError(`${pending.op}: a reply of ${size} bytes is over the ${this.maxMessageBytes}-byte message cap`) }
        : replyOutcome(message);
    if ("reply" in outcome) pending.resolve(outcome.reply);
    else pending.reject(outcome.error);
  }
}
