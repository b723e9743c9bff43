import { MAX_ID } from "../wire/protocol.js";

/** The `deadlineMs` header field for a request with `timeoutMs` left: none for no deadline, else within the wire's range. */
export function deadlineField(timeoutMs: number | undefined): { deadlineMs?: number } {
  if (timeoutMs === undefined || !Number.isFinite(timeoutMs)) return {};
  return { deadlineMs: Math.min(Math.max(0, Math.round(timeoutMs)), MAX_ID) };
}
