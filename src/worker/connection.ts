import { Dealer } from "zeromq";
import { BadRequestError, ModelError, type ModelErrorDetails, PythonError, type PythonFrame, RequestAbortedError, RequestTimeoutError, SpecError, type TfbridgeError, WireError } from "../errors.js";
import { type Message, decodeMessage, encodeMessage } from "../wire/codec.js";
import type { NDArray } from "../wire/ndarray.js";
import { serialSends } from "./send-queue.js";

/** A phase the worker entered while serving a request (see {@link RequestOptions.onProgress}). */
export interface ProgressEvent {
  op: string;
  /**
   * `lstm.run`: `prepare` (spec, weights, model lookup), `build` (only on a spec's first run in a mode:
   * its graph and session, layer or function — seconds for large specs), then `run`.
   */
  phase: string;
  /** Milliseconds since the request was sent. */
  elapsedMs: number;
}

/** Per-request limits, and progress. */
export interface RequestOptions {
  /** Reject with RequestTimeoutError when no reply came within this many milliseconds. */
  timeoutMs?: number;
  /** Reject with RequestAbortedError when this signal fires first. */
  signal?: AbortSignal;
  /**
   * Called as the worker enters each phase of the request, so that a long first call (a large spec's
   * build can take tens of seconds) is visibly working. Asking for it costs one small message per phase.
   * A Bridge reports phases; a Pool does not (yet) and ignores it.
   */
  onProgress?: (event: ProgressEvent) => void;
}

/** A successful reply: the worker's `result` object and the arrays that came with it. */
export interface Reply<R = Record<string, unknown>> {
  result: R;
  arrays: NDArray[];
  names: (string | undefined)[];
}

interface Pending {
  op: string;
  progress?: (phase: string) => void;
  resolve(reply: Reply): void;
  reject(error: Error): void;
}

/** The `error` object of a failed reply (docs/wire.md). */
export interface WorkerErrorBody {
  kind: "python" | "bad_request" | "spec" | "model" | "cancelled";
  type: string;
  message: string;
  traceback: PythonFrame[];
  field?: string;
  reason?: string;
  details?: ModelErrorDetails;
}

/** The typed error for a worker's error reply. */
export function replyError(e: WorkerErrorBody): TfbridgeError {
  if (e.kind === "spec") return new SpecError(e.field ?? "spec", e.reason ?? e.message, true);
  if (e.kind === "model") return new ModelError(e.message, e.details ?? {}, true);
  if (e.kind === "bad_request") return new BadRequestError(e.message);
  if (e.kind === "cancelled") return new RequestAbortedError("request", new Error(e.message));
  return new PythonError(e.type, e.message, e.traceback);
}

/** A decoded reply message as what its request resolves with, or the typed error it rejects with. */
export function replyOutcome({ header, arrays }: Message): { reply: Reply } | { error: TfbridgeError } {
  if (header.ok === true) return { reply: { result: (header.result ?? {}) as Record<string, unknown>, arrays, names: header.arrays.map((d) => d.name) } };
  return { error: replyError(header.error as WorkerErrorBody) };
}

/**
 * Requests to one worker over a ZeroMQ DEALER socket, many in flight at once, matched to replies by id.
 * It knows nothing of processes: whoever owns it calls {@link failAll} when the peer is gone.
 */
export class Connection {
  private readonly socket = new Dealer({ linger: 0, sendHighWaterMark: 0, receiveHighWaterMark: 0 });
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private readonly send = serialSends((frames: Buffer[]) => this.socket.send(frames));
  private failure: Error | null = null;

  constructor(endpoint: string) {
    this.socket.connect(endpoint);
    void this.receiveLoop();
  }

  /** Requests waiting for their reply. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Sends one request and resolves with its reply, or rejects with a typed error. */
  request<R = Record<string, unknown>>(
    op: string,
    args: Record<string, unknown> = {},
    arrays: readonly NDArray[] = [],
    options: RequestOptions = {},
  ): Promise<Reply<R>> {
    if (this.failure) return Promise.reject(this.failure);
    if (options.signal?.aborted) return Promise.reject(new RequestAbortedError(op, options.signal.reason));
    const id = this.nextId++;
    // The worker learns the deadline too, and skips the request if it comes due before it runs.
    const deadline = options.timeoutMs === undefined ? {} : { deadlineMs: options.timeoutMs };
    const { onProgress } = options;
    const frames = encodeMessage({ id, op, args, ...deadline, ...(onProgress ? { progress: true } : {}) }, arrays);
    const sent = performance.now();
    return new Promise<Reply<R>>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const giveUp = (error: Error) =>
        settle(() => {
          this.send(encodeMessage({ id, ctl: "cancel" })).catch(() => {}); // the worker drops it if not yet run
          reject(error);
        });
      const onAbort = () => giveUp(new RequestAbortedError(op, options.signal!.reason));
      const settle = (finish: () => void) => {
        if (!this.pending.delete(id)) return;
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
        finish();
      };
      this.pending.set(id, {
        op,
        progress: onProgress && ((phase) => onProgress({ op, phase, elapsedMs: performance.now() - sent })),
        resolve: (reply) => settle(() => resolve(reply as Reply<R>)),
        reject: (error) => settle(() => reject(error)),
      });
      if (options.timeoutMs !== undefined) {
        timer = setTimeout(() => giveUp(new RequestTimeoutError(op, options.timeoutMs!)), options.timeoutMs);
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
    if (header.ctl === "progress") {
      pending.progress?.(String(header.phase));
      return;
    }
    const outcome = replyOutcome(message);
    if ("reply" in outcome) pending.resolve(outcome.reply);
    else pending.reject(outcome.error);
  }
}
