import { MAX_ID } from "../wire/protocol.js";

/** setTimeout's longest delay: a longer one (2^31 ms or more) fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Calls `fire` once `ms` milliseconds have passed: `Infinity` never does, and delays past setTimeout's
 * 2^31 − 1 ms are covered by re-arming. Returns the function that cancels it.
 */
export function after(ms: number, fire: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  const arm = (left: number) => {
    timer = setTimeout(() => (left > MAX_TIMER_MS ? arm(left - MAX_TIMER_MS) : fire()), Math.min(left, MAX_TIMER_MS));
  };
  if (ms !== Infinity) arm(Math.max(0, ms));
  return () => clearTimeout(timer);
}

/** The `deadlineMs` header field for a request with `timeoutMs` left: none for no deadline, else within the wire's range. */
export function deadlineField(timeoutMs: number | undefined): { deadlineMs?: number } {
  if (timeoutMs === undefined || !Number.isFinite(timeoutMs)) return {};
  return { deadlineMs: Math.min(Math.max(0, Math.round(timeoutMs)), MAX_ID) };
}
