import { MessageTooLargeError, WireError } from "../errors.js";
import type { Link } from "../link/link.js";
import { type Message, decodeMessage, encodeControl, messageBytes } from "../wire/codec.js";
import type { NDArray } from "../wire/ndarray.js";
import { MAX_MESSAGE_BYTES } from "../wire/protocol.js";
import { PendingRequest } from "./pending.js";
import { type Reply, type RequestOptions, replyOutcome } from "./replies.js";

/** Options of a {@link Connection}. */
export interface ConnectionOptions {
  /** The largest message sent or accepted, all frames counted (default wire.json's 1 GiB). */
  maxMessageBytes?: number;
}

/**
 * Requests to one worker over a {@link Link} (local or ZeroMQ), many in flight at once, matched to
 * replies by id. It knows nothing of processes: whoever owns it calls {@link failAll} when the peer is gone.
 */
export class Connection {
  private readonly pending = new Map<number, PendingRequest>();
  private nextId = 1;
  private failure: Error | null = null;
  private readonly maxMessageBytes: number;

  constructor(
    private readonly link: Link,
    options: ConnectionOptions = {},
  ) {
    this.maxMessageBytes = options.maxMessageBytes ?? MAX_MESSAGE_BYTES;
    link.start(
      (frames) => this.dispatch(frames),
      (error) => this.failAll(error),
    );
  }

  /** Requests waiting for their reply. */
  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Sends one request and resolves with its reply, or rejects with a typed error.
   * `timeoutMs` may be `Infinity` (the default: no timeout) or longer than setTimeout's 2^31 − 1 ms.
   */
  request<R = Record<string, unknown>>(
    op: string,
    args: Record<string, unknown> = {},
    arrays: readonly NDArray[] = [],
    options: RequestOptions = {},
  ): Promise<Reply<R>> {
    if (this.failure) return Promise.reject(this.failure);
    let request: PendingRequest;
    try {
      const limits = { timeoutMs: options.timeoutMs ?? Infinity, signal: options.signal, maxMessageBytes: this.maxMessageBytes, onProgress: options.onProgress };
      request = new PendingRequest(this.nextId++, op, args, arrays, limits, (r, gaveUp) => {
        this.pending.delete(r.id);
        if (gaveUp) this.link.send(encodeControl("cancel", r.id), null).catch(() => {}); // the worker drops it if not yet run
      });
    } catch (e) {
      return Promise.reject(e);
    }
    this.pending.set(request.id, request);
    // The worker learns the deadline too, and skips the request if it comes due before it runs.
    this.link.send(request.encode(), request.id).catch((e: Error) => request.settle({ error: new WireError(`could not send ${op}: ${e.message}`) }));
    return request.promise as Promise<Reply<R>>;
  }

  /** Rejects every request in flight, and every later one, with `error`. */
  failAll(error: Error): void {
    this.failure ??= error;
    for (const request of [...this.pending.values()]) request.settle({ error });
  }

  /** Closes the link; requests still in flight are rejected with `error`. */
  close(error: Error): void {
    this.failAll(error);
    this.link.close();
  }

  private dispatch(frames: Uint8Array[]): void {
    let message: Message;
    try {
      message = decodeMessage(frames);
    } catch (e) {
      // A reply we cannot read cannot be matched to its request either; the request's timeout stays in force.
      process.emitWarning(`tfbridge: dropped an unreadable reply: ${(e as Error).message}`);
      this.link.discard(frames);
      return;
    }
    const { header } = message;
    const final = header.ctl !== "progress";
    if (final && typeof header.id === "number") this.link.replied(header.id); // the worker is done with its inputs
    const request = typeof header.id === "number" ? this.pending.get(header.id) : undefined;
    if (!request || !final) {
      if (request) request.progress(String(header.phase));
      else this.link.discard(frames); // it already timed out or was aborted
      return;
    }
    const size = messageBytes(frames);
    if (size > this.maxMessageBytes) {
      this.link.discard(frames);
      request.settle({ error: new MessageTooLargeError(`${request.op}: a reply of ${size} bytes is over the ${this.maxMessageBytes}-byte message cap`) });
      return;
    }
    const outcome = replyOutcome(message);
    if ("reply" in outcome) outcome.reply.arrays = this.link.adopt(outcome.reply.arrays);
    else this.link.discard(frames);
    request.settle(outcome);
  }
}
