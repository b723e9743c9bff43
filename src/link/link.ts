import type { NumericDType } from "../wire/dtypes.js";
import type { NDArray } from "../wire/ndarray.js";
import type { SharedArray } from "./shared-array.js";

/** How requests reach a worker on this machine: `local` (a socket pair and shared memory) or `zeromq`. */
export type LinkKind = "local" | "zeromq";

/**
 * One message a link delivered. It owns whatever memory its frames view (on the local link, blocks of
 * the output region) until its receiver either adopts the arrays decoded from them or releases it;
 * one of the two, once. As pyodide's PyBufferView: the holder of the handle decides, not the link.
 */
export interface IncomingMessage {
  readonly frames: Uint8Array[];
  /**
   * The arrays decoded from `frames`, as their new holder will keep them: on the local link a
   * {@link SharedArray} that gives its block back when released. Anything not among them is released.
   */
  adopt(arrays: NDArray[]): NDArray[];
  /** No one takes this message (its request ended first, or it could not be read): give it all back now. */
  release(): void;
}

/**
 * How messages of the wire format travel between the request engine and one worker. Two links exist:
 * {@link LocalLink} (same machine: a socket pair and shared memory, the default) and a
 * {@link RouterPeer} of a {@link ZeroMqRouter} (ZeroMQ: remote workers, and local ones where asked
 * for). The engine above knows neither: what it needs of one is on this interface.
 */
export interface Link {
  readonly kind: LinkKind;
  /** The id its worker goes by as a member, where the link has one (a ZeroMQ routing id); null: the engine names it. */
  readonly memberId: string | null;
  /**
   * Sends one message's frames; `requestId` ties a request's inputs to its reply, on whose arrival
   * the link itself frees them (it reads the reply's id from the header's fixed fields).
   */
  send(frames: Buffer[], requestId: number | null): Promise<void>;
  /**
   * Starts delivering messages to `receive`; `ended` hears once why no more will come; `activity`
   * (where the link can tell) hears of bytes arriving before a message is whole.
   */
  start(receive: (message: IncomingMessage) => void, ended: (error: Error) => void, activity?: () => void): void;
  /**
   * Drops request `requestId` if it has not left yet (the local link holds a request while its input
   * region has no room); true if it was still here, so the worker never sees it. Links that hand every
   * message on at once leave this out.
   */
  withdraw?(requestId: number): boolean;
  /** True once nothing can be sent any more: a failed send then means the worker is out of reach. */
  readonly closed: boolean;
  /**
   * A zero-filled array in memory this link sends without a copy (the local link's input region);
   * null when it has no room. Links without such memory leave it out.
   */
  alloc?<D extends NumericDType>(dtype: D, shape: readonly number[]): SharedArray<D> | null;
  close(): void;
}
