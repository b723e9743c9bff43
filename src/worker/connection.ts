import { randomBytes } from "node:crypto";
import { Dealer } from "zeromq";
import { MessageTooLargeError, WireError } from "../errors.js";
import { type Message, decodeMessage, encodeControl, messageBytes } from "../wire/codec.js";
import type { NDArray } from "../wire/ndarray.js";
import { MAX_MESSAGE_BYTES } from "../wire/protocol.js";
import { PendingRequest } from "./pending.js";
import { type Reply, type RequestOptions, replyOutcome } from "./replies.js";
import { serialSends } from "./send-queue.js";

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
  private readonly pending = new Map<number, PendingRequest>();
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
        if (gaveUp) this.send(encodeControl("cancel", r.id)).catch(() => {}); // the worker drops it if not yet run
      });
    } catch (e) {
      return Promise.reject(e);
    }
    this.pending.set(request.id, request);
    // The worker learns the deadline too, and skips the request if it comes due before it runs.
    this.send(request.encode()).catch((e: Error) => request.settle({ error: new WireError(`could not send ${op}: ${e.message}`) }));
    return request.promise as Promise<Reply<R>>;
  }

  /** Rejects every request in flight, and every later one, with `error`. */
  failAll(error: Error): void {
    this.failure ??= error;
    for (const request of [...this.pending.values()]) request.settle({ error });
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
    const request = typeof header.id === "number" ? this.pending.get(header.id) : undefined;
    if (!request) return; // it already timed out or was aborted
    if (header.ctl === "progress") {
      request.progress(String(header.phase));
      return;
    }
    const size = messageBytes(frames);
    request.settle(
      size > this.maxMessageBytes
        ? { error: new MessageTooLargeError(`${request.op}: a reply of ${size} bytes is over the ${this.maxMessageBytes}-byte message cap`) }
        : replyOutcome(message),
    );
  }
}
