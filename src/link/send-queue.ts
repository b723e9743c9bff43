/**
 * zeromq.js allows one send at a time per socket (a second one throws while the first is pending):
 * this wraps a socket's send so each call waits for the one before. A failed send rejects its own
 * promise only; the queue goes on.
 */
export function serialSends<M>(send: (message: M) => Promise<void>): (message: M) => Promise<void> {
  let last: Promise<void> = Promise.resolve();
  return (message) => {
    const sent = last.then(() => send(message));
    last = sent.catch(() => {});
    return sent;
  };
}
