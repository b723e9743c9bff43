import { Router } from "zeromq";
import { WireError } from "../errors.js";
import { isHeartbeat } from "../wire/codec.js";
import type { NDArray } from "../wire/ndarray.js";
import { HEARTBEAT_ROUTING_ID_SUFFIX } from "../wire/protocol.js";
import type { IncomingMessage, Link } from "./link.js";
import { serialSends } from "./send-queue.js";

/** What a router does with a message from a peer that has not started (not a member yet). */
export type StrangerHandler = (peer: RouterPeer, message: IncomingMessage) => void;

/**
 * A ZeroMQ ROUTER that workers connect to (the Paranoid Pirate pattern): local ones over IPC in a
 * private folder, remote ones (`tfbridge worker --connect tcp://…`) over TCP, CurveZMQ off loopback.
 * Each worker is a {@link RouterPeer}, a {@link Link} like any other; messages from one that has not
 * started go to the stranger handler, which decides whether it joins. A worker's heartbeats travel on a
 * connection of their own (its routing id plus HEARTBEAT_ROUTING_ID_SUFFIX), so they never wait behind a
 * long message on its request connection; they reach its peer as if they came on the first. Only
 * heartbeats are taken from such a connection: whoever opens one can say nothing else as that worker.
 */
export class ZeroMqRouter {
  readonly socket: Router;
  private readonly peers = new Map<string, RouterPeer>();
  private readonly sendFrames = serialSends((frames: Buffer[]) => this.socket.send(frames));

  constructor(maxMessageBytes: number) {
    this.socket = new Router({ linger: 0, sendHighWaterMark: 0, receiveHighWaterMark: 0, maxMessageSize: maxMessageBytes, mandatory: true });
  }

  bind(endpoint: string): Promise<void> {
    return this.socket.bind(endpoint);
  }

  /** Reads until closed; `failed` hears if reading stops for any other reason. */
  start(stranger: StrangerHandler, failed: (error: Error) => void): void {
    void (async () => {
      try {
        for await (const [identity, ...frames] of this.socket) {
          const heartbeats = isHeartbeatIdentity(identity!);
          const worker = heartbeats ? identity!.subarray(0, identity!.length - HEARTBEAT_ROUTING_ID_SUFFIX.length) : identity!;
          const id = worker.toString("hex");
          try {
            if (heartbeats && !isHeartbeat(frames)) continue;
            const peer = this.peers.get(id);
            if (peer && heartbeats) peer.heartbeatIdentity = identity!;
            if (peer) peer.deliver(frames);
            else stranger(new RouterPeer(this, Buffer.from(worker), id), new ZeroMqMessage(frames));
          } catch (e) {
            // Whatever one peer sent, the router serves on: it must never die of a message.
            process.emitWarning(`tfbridge: dropped a message it could not handle: ${(e as Error).message}`);
          }
        }
      } catch (e) {
        if (!this.socket.closed) failed(new WireError(`the pool's socket failed: ${(e as Error).message}`));
      }
    })();
  }

  /** @internal */
  send(identity: Buffer, frames: Buffer[]): Promise<void> {
    return this.sendFrames([identity, ...frames]);
  }

  /** @internal */
  register(peer: RouterPeer): void {
    this.peers.set(peer.memberId, peer);
  }

  /** @internal */
  unregister(peer: RouterPeer): void {
    if (this.peers.get(peer.memberId) === peer) this.peers.delete(peer.memberId);
  }

  close(): void {
    this.peers.clear();
    this.socket.close();
  }
}

/** A worker's heartbeat connection: its 16-byte routing id followed by the suffix. */
function isHeartbeatIdentity(identity: Buffer): boolean {
  const suffix = HEARTBEAT_ROUTING_ID_SUFFIX;
  return identity.length === 16 + suffix.length && identity.subarray(16).equals(suffix);
}

/**
 * One worker behind a {@link ZeroMqRouter}, addressed by its routing id. Its reply arrays are views
 * over ZeroMQ's own message buffers, freed by the garbage collector: nothing to release.
 */
export class RouterPeer implements Link {
  readonly kind = "zeromq";
  closed = false;
  /** Its heartbeat connection's routing id, once a heartbeat came on it (workers before it have none). */
  heartbeatIdentity: Buffer | null = null;
  private receive: ((message: IncomingMessage) => void) | null = null;

  constructor(
    private readonly router: ZeroMqRouter,
    readonly identity: Buffer,
    /** The routing id in hex: its member's id. */
    readonly memberId: string,
  ) {}

  /** Heartbeats go on its heartbeat connection where it has one, so that they never wait behind a long message. */
  send(frames: Buffer[]): Promise<void> {
    if (this.closed) return Promise.reject(new WireError("this worker left"));
    if (this.heartbeatIdentity !== null && isHeartbeat(frames)) {
      return this.router.send(this.heartbeatIdentity, frames).catch(() => {
        this.heartbeatIdentity = null; // that connection is gone: heartbeats go with the requests again
      });
    }
    return this.router.send(this.identity, frames).catch((e: Error) => {
      this.closed = true; // `mandatory`: it is no longer connected
      throw e;
    });
  }

  /** Its messages come here from now on. The router ends with the pool, so `ended` is not needed. */
  start(receive: (message: IncomingMessage) => void): void {
    this.receive = receive;
    this.router.register(this);
  }

  /** @internal A message from it. */
  deliver(frames: Buffer[]): void {
    this.receive?.(new ZeroMqMessage(frames));
  }

  close(): void {
    this.closed = true;
    this.router.unregister(this);
  }
}

/** A message over ZeroMQ: its frames are libzmq's buffers, freed by the garbage collector, so nothing to give back. */
class ZeroMqMessage implements IncomingMessage {
  constructor(readonly frames: Buffer[]) {}

  adopt(arrays: NDArray[]): NDArray[] {
    return arrays;
  }

  release(): void {}
}
