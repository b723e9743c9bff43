import { randomBytes } from "node:crypto";
import { Dealer } from "zeromq";
import { WireError } from "../errors.js";
import type { NDArray } from "../wire/ndarray.js";
import type { Link } from "./link.js";
import { serialSends } from "./send-queue.js";

/** A routing id nobody can guess or pre-empt (libzmq's own are a sequence); it must not start with a zero byte. */
function randomRoutingId(): string {
  return `t${randomBytes(15).toString("base64url")}`;
}

/** A ZeroMQ DEALER socket to a worker's ROUTER: the remote link, and the local one where asked for. */
export class ZeroMqLink implements Link {
  private readonly socket = new Dealer({ linger: 0, sendHighWaterMark: 0, receiveHighWaterMark: 0, routingId: randomRoutingId() });
  private readonly sendFrames = serialSends((frames: Buffer[]) => this.socket.send(frames));

  constructor(endpoint: string) {
    this.socket.connect(endpoint);
  }

  send(frames: Buffer[]): Promise<void> {
    return this.sendFrames(frames);
  }

  start(receive: (frames: Uint8Array[]) => void, ended: (error: Error) => void): void {
    void (async () => {
      try {
        for await (const frames of this.socket) receive(frames);
      } catch (e) {
        if (!this.socket.closed) ended(new WireError(`receiving failed: ${(e as Error).message}`));
      }
    })();
  }

  replied(): void {}

  adopt(arrays: NDArray[]): NDArray[] {
    return arrays; // views over ZeroMQ's own message buffers, freed by the garbage collector
  }

  discard(): void {}

  close(): void {
    this.socket.close();
  }
}
