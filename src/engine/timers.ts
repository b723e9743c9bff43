import { MAX_ID } from "../wire/protocol.js";

/** A request's `deadlineMs` header field with `timeoutMs` left: undefined for no deadline, else within the wire's range. */
export function deadlineMsLeft(timeoutMs: number): number | undefined {
  return Number.isFinite(timeoutMs) ? Math.min(Math.max(0, Math.round(timeoutMs)), MAX_ID) : undefined;
}
