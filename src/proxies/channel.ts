import { Pair } from "zeromq";
import { PythonError, type PythonFrame } from "../errors.js";
import { serialSends } from "../link/send-queue.js";

/** A message of pythonia's protocol: a request (`r`, `action`, …) or a response (`r`, `key`, `val`, `sig`). */
export interface PythoniaMessage {
  r?: number;
  c?: string;
  key?: unknown;
  val?: unknown;
  sig?: unknown;
  /** Added by our Python side to error responses: the exception as data. */
  error?: { type: string; message: string; traceback: PythonFrame[] };
  [field: string]: unknown;
}

type Handler = (message: PythoniaMessage) => unknown;

/**
 * A response that makes pythonia's Bridge throw `error` itself: every Bridge method reads
 * `resp.key === 'error'` and then `resp.sig` to build its own exception, and reading `sig` throws ours.
 * That turns the resolve-only promises pythonia waits on into prompt, typed rejections.
 */
function failing(r: number | undefined, error: Error): PythoniaMessage {
  return {
    r,
    key: "error",
    val: "",
    get sig(): never {
      throw error;
    },
  };
}

/**
 * pythonia's transport (the `com` its Bridge is built on: write, writeRaw, register), carried over a
 * ZeroMQ PAIR socket to the worker's proxy thread instead of a Python process of pythonia's own.
 */
export class PythoniaChannel {
  private readonly socket = new Pair({ linger: 0, sendHighWaterMark: 0 });
  private readonly handlers = new Map<number | string, Handler>();
  private readonly send = serialSends((payload: string) => this.socket.send(payload));
  private failure: Error | null = null;

  constructor(endpoint: string) {
    this.socket.connect(endpoint);
    void this.receiveLoop();
  }

  register(id: number | string, handler: Handler): void {
    this.handlers.set(id, handler);
  }

  write(message: PythoniaMessage, handler?: Handler): void {
    this.writeRaw(JSON.stringify(message), message.r, handler);
  }

  writeRaw(payload: string, r: number | undefined, handler?: Handler): void {
    if (this.failure) {
      handler?.(failing(r, this.failure));
      return;
    }
    if (handler && r !== undefined) this.register(r, handler);
    this.send(payload).catch((e: Error) => this.fail(e));
  }

  /** Answers every waiting call, and every later one, with `error`. */
  fail(error: Error): void {
    this.failure ??= error;
    for (const [id, handler] of [...this.handlers]) {
      if (typeof id === "number") {
        this.handlers.delete(id);
        handler(failing(id, error));
      }
    }
  }

  close(error: Error): void {
    this.fail(error);
    this.socket.close();
  }

  private async receiveLoop(): Promise<void> {
    try {
      for await (const [frame] of this.socket) this.receive(JSON.parse(frame!.toString("utf8")) as PythoniaMessage);
    } catch (e) {
      if (!this.socket.closed) this.fail(e as Error);
    }
  }

  private receive(message: PythoniaMessage): void {
    if (message.c !== undefined && this.handlers.has(message.c)) {
      this.handlers.get(message.c)!(message); // Python calling back into JS
      return;
    }
    const handler = message.r === undefined ? undefined : this.handlers.get(message.r);
    if (!handler) return;
    if (message.key === "error" && message.error) {
      const { type, message: text, traceback } = message.error;
      message = failing(message.r, new PythonError(type, text, traceback));
    }
    // pythonia's handlers return true to stay registered (a 'pre' message precedes the answer).
    let keep: unknown;
    try {
      keep = handler(message);
    } catch (e) {
      // A handler's own exception concerns its request alone: answered with it, the request ends there,
      // instead of the exception leaving the receive loop and failing the whole channel.
      this.handlers.delete(message.r!);
      handler(failing(message.r, e as Error));
      return;
    }
    if (!keep) this.handlers.delete(message.r!);
  }
}
