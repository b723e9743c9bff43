import type { NDArray } from "../wire/ndarray.js";

/** How requests reach a worker on this machine: `local` (a socket pair and shared memory) or `zeromq`. */
export type LinkKind = "local" | "zeromq";

/**
 * How messages of wire format v1 travel between the request engine and one worker. Two links exist:
 * {@link LocalLink} (same machine: a socket pair and shared memory, the default) and a
 * {@link RouterPeer} of a {@link ZeroMqRouter} (ZeroMQ: remote workers, and local ones where asked
 * for). The engine above knows neither.
 */
export interface Link {
  readonly kind: LinkKind;
  /** Sends one message's frames; `requestId` ties a request's inputs to the reply that frees them. */
  send(frames: Buffer[], requestId: number | null): Promise<void>;
  /**
   * Starts delivering messages to `receive`; `ended` hears once why no more will come; `activity`
   * (where the link can tell) hears of bytes arriving before a message is whole.
   */
  start(receive: (frames: Uint8Array[]) => void, ended: (error: Error) => void, activity?: () => void): void;
  /** True once nothing can be sent any more: a failed send then means the worker is out of reach. */
  readonly closed: boolean;
  /** The final reply to `requestId` arrived: the memory its inputs used may be reused. */
  replied(requestId: number): void;
  /** The arrays of a reply handed to the caller, as the caller will hold them. */
  adopt(arrays: NDArray[]): NDArray[];
  /** A message no one takes (its request ended first): whatever it holds is given back now. */
  discard(frames: Uint8Array[]): void;
  close(): void;
}
