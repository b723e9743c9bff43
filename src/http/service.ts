/**
 * `tfbridge serve`'s HTTP side, on Node's own `http`: TensorFlow Serving's REST API (predict, model
 * status, metadata) over a tfbridge Pool, Prometheus metrics, health and readiness, and a drain for
 * graceful shutdown.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import {
  BridgeClosedError, MessageTooLargeError, ModelError, ModelNotFoundError, OverloadedError, RequestAbortedError, RequestTimeoutError, WorkerDiedError,
} from "../errors.js";
import type { Pool } from "../pool/pool.js";
import { Counter } from "prom-client";
import type { VersionLabels } from "./labels.js";
import { modelMetadata } from "./metadata.js";
import { BadBodyError, predictResponse, readPredictBody } from "./tensors.js";

/** The header a predict request states its priority level in (1 first; batching.priorityLevels). */
export const PRIORITY_HEADER = "x-tfbridge-priority";

/** Options of {@link createService}. */
export interface ServiceOptions {
  /** The models that must be served (their default version warmed on a worker) before the service is ready; asked at each check. */
  models: () => readonly string[];
  /** A further condition for readiness (`tfbridge serve`: its first config is applied, labels included). */
  ready?: () => boolean;
  /** Version labels (`/v1/models/NAME/labels/LABEL`); none without. */
  labels?: VersionLabels;
  /** Largest request body accepted, in bytes. Default 16 MiB. */
  maxBodyBytes?: number;
  /** Per-request deadline. Default 30 s. */
  timeoutMs?: number;
  /**
   * How long a drain waits for connections to finish before closing them (a client that sends its
   * headers or body slowly would hold the process forever). Default 30 s.
   */
  drainTimeoutMs?: number;
  /** How long a client may take to send a whole request (headers and body). Default 60 s. */
  requestTimeoutMs?: number;
  /** Hears one {@link RequestLogLine} per request once it is answered or its connection closes (`tfbridge serve` prints them as JSON lines with `"logRequests": true`). */
  requestLog?: (line: RequestLogLine) => void;
}

/** One HTTP request, answered or not (status 499: its connection closed first), as the request log has it. */
export interface RequestLogLine {
  /** ISO 8601, when the answer finished or the connection closed. */
  time: string;
  method: string;
  path: string;
  /** predict, status, metadata, metrics, healthz, readyz or other. */
  route: string;
  /** The model and version a model route resolved to (a label's version included), when it got that far. */
  model?: string;
  version?: number;
  status: number;
  /** From the request's arrival to the end of the answer (or of the connection). */
  ms: number;
  /** The client's address. */
  remote: string;
}

/** nginx's "client closed request": the connection closed before the answer was written (the client left, or the drain cut it off). */
const CLOSED_BEFORE_ANSWER = 499;

/** The HTTP status for an error a request ended with, and whether the client may retry later. */
function statusOf(error: unknown): number {
  // URIError: a bad %-escape in a model name.
  if (error instanceof BadBodyError || error instanceof ModelError || error instanceof SyntaxError || error instanceof URIError) return 400;
  if (error instanceof ModelNotFoundError) return 404;
  if (error instanceof MessageTooLargeError) return 413;
  if (error instanceof OverloadedError) return 429; // the pool's queue is full: back off and retry
  if (error instanceof BridgeClosedError || error instanceof WorkerDiedError) return 503;
  if (error instanceof RequestTimeoutError) return 504;
  if (error instanceof RequestAbortedError) return CLOSED_BEFORE_ANSWER;
  return 500;
}

/** What the URL parser would change in an origin-form target: a fragment, backslashes, dot segments (`%2e` ones too). */
const NEEDS_URL_PARSER = /[\\#]|\/\.|%2e/i;

/**
 * The path of a request's target. A plain origin-form target (`/v1/...`, by far the most common) is
 * cut at its query; anything else (absolute form, dot segments, backslashes) goes through the URL
 * parser, which costs a few percent of a predict's time under load. @throws {BadBodyError} for a
 * target that is not a URL.
 */
function requestPath(target: string | undefined): string {
  if (target !== undefined && target.startsWith("/") && !target.startsWith("//") && !NEEDS_URL_PARSER.test(target)) {
    const query = target.indexOf("?");
    return query === -1 ? target : target.slice(0, query);
  }
  try {
    return new URL(target ?? "/", "http://service").pathname;
  } catch {
    throw new BadBodyError(`the request target ${JSON.stringify(target)} is not a URL path`);
  }
}

/** `/v1/models/NAME[/versions/N | /labels/LABEL]` then `:predict`, nothing, or `/metadata`, as TF Serving routes them. */
const MODEL = "^\\/v1\\/models\\/([^/:]+)(?:\\/versions\\/(\\d+)|\\/labels\\/([^/:]+))?";
const PREDICT = new RegExp(`${MODEL}:predict$`);
const STATUS = new RegExp(`${MODEL}$`);
const METADATA = new RegExp(`${MODEL}\\/metadata$`);

/** The service: an `http.Server` (not yet listening) and `drain()` for shutdown. */
export function createService(pool: Pool, options: ServiceOptions): { server: Server; drain: () => Promise<void> } {
  const maxBodyBytes = options.maxBodyBytes ?? 16 * 1024 * 1024;
  let draining = false;

  // Every HTTP request, by route and status, those refused before the pool (bad JSON, 404, 413) included.
  const requests = new Counter({
    name: "tfbridge_http_requests_total",
    help: "HTTP requests by route and status code (requests refused before the pool included; 499: the connection closed before the answer)",
    labelNames: ["route", "code"],
    registers: [pool.metricsRegistry],
  });
  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = typeof body === "string" ? body : JSON.stringify(body);
    // A stated length lets Node write the head and body in one go, where chunked encoding writes three pieces.
    res.writeHead(status, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(text),
      // While draining, keep-alive connections are closed after their answer.
      ...(draining ? { connection: "close" } : {}),
      ...headers,
    });
    res.end(text);
  };

  const readBody = (req: IncomingMessage): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      // Over the limit, the rest is read and dropped, and the 413 goes once the client has sent it
      // all: a socket closed under a client still sending reaches it as a reset, not as the answer.
      req.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size <= maxBodyBytes) chunks.push(chunk);
        else chunks.length = 0;
      });
      req.on("end", () => {
        if (size > maxBodyBytes) return reject(new MessageTooLargeError(`the request body is ${size} bytes, over the limit of ${maxBodyBytes}`));
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
        } catch (e) {
          reject(e);
        }
      });
      req.on("error", reject);
    });

  /** Ready: not draining, and every model's default version is warmed on at least one worker. */
  const ready = () => {
    const served = pool.models();
    return !draining && (options.ready?.() ?? true) && options.models().every((name) => served.some((m) => m.name === name && m.isDefault && m.workers > 0));
  };

  /** A route's model and version: its `/versions/N`, or the version its `/labels/LABEL` names, or none (the default). */
  const target = (match: RegExpExecArray) => {
    const name = decodeURIComponent(match[1]!);
    if (match[3] !== undefined) {
      const label = decodeURIComponent(match[3]);
      if (!options.labels) throw new ModelNotFoundError(name, null, `no version is labelled ${JSON.stringify(label)}`);
      return { name, version: options.labels.version(name, label) };
    }
    return { name, version: match[2] === undefined ? undefined : Number(match[2]) };
  };

  /** The version a route names (its default without one). @throws {ModelNotFoundError} when not served. */
  const servedVersion = (name: string, version: number | undefined) => {
    try {
      return pool.servedVersion(name, version);
    } catch (error) {
      // The pool's message lists what is loaded, which is not the HTTP client's business.
      throw error instanceof ModelNotFoundError ? new ModelNotFoundError(name, version ?? null, "not served here") : error;
    }
  };

  /** A request's priority level from its `x-tfbridge-priority` header (TF Serving's REST API has no field for one). */
  const requestPriority = (req: IncomingMessage): number | undefined => {
    const header = req.headers[PRIORITY_HEADER];
    if (header === undefined) return undefined;
    if (Array.isArray(header) || !/^\d{1,6}$/.test(header)) throw new ModelError(`${PRIORITY_HEADER} must be one priority level (an integer), got ${JSON.stringify(header)}`);
    return Number(header);
  };

  const predict = async (req: IncomingMessage, res: ServerResponse, route: RegExpExecArray, resolved: { model?: string; version?: number }) => {
    const controller = new AbortController();
    res.on("close", () => !res.writableFinished && controller.abort(new Error("the client closed the connection")));
    const body = await readBody(req);
    // Resolved again once the body is in: a reload may have moved the label or the default, and unloaded
    // the version they named, while a large body arrived. From here to the pool nothing awaits, so no
    // reload comes between.
    const { name, version } = target(route);
    const served = servedVersion(name, version);
    Object.assign(resolved, { model: name, version: served.version });
    const { inputs, rows } = readPredictBody(body, served.inputs);
    const result = await pool.predict(name, inputs, { version, timeoutMs: options.timeoutMs ?? 30_000, signal: controller.signal, priority: requestPriority(req) });
    send(res, 200, predictResponse(result.outputs, result.names, rows));
  };

  const server = createServer((req, res) => {
    let routeName = "other";
    const started = performance.now();
    const resolved: { model?: string; version?: number } = {};
    // "close", not "finish": a response whose client left first never finishes, and it counts too.
    res.on("close", () => {
      const status = res.writableFinished ? res.statusCode : CLOSED_BEFORE_ANSWER;
      requests.inc({ route: routeName, code: String(status) });
      options.requestLog?.({
        time: new Date().toISOString(),
        method: req.method ?? "",
        path: (req.url ?? "").slice(0, 512),
        route: routeName,
        ...resolved,
        status,
        ms: Math.round((performance.now() - started) * 1000) / 1000,
        remote: req.socket.remoteAddress ?? "",
      });
    });
    const route = async () => {
      // Inside the route: a target URL cannot parse (`GET http://`, `GET //[`) is this request's 400,
      // not an exception outside every handler that ends the process.
      const path = requestPath(req.url);
      const p = PREDICT.exec(path);
      if (p) {
        routeName = "predict";
        if (req.method !== "POST") return send(res, 405, { error: "use POST" }, { allow: "POST" });
        if (draining) return send(res, 503, { error: "the service is shutting down" });
        // An unknown model, version or label is a 404 before the body is read; the version itself is
        // resolved again once the body is in (predict).
        const { name, version } = target(p);
        Object.assign(resolved, { model: name, version: servedVersion(name, version).version });
        return predict(req, res, p, resolved);
      }
      // HEAD as GET without the body (Node leaves it out), as every HTTP server must: health checkers send it.
      if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, { error: "use GET" }, { allow: "GET, HEAD" });
      const m = METADATA.exec(path);
      if (m) {
        routeName = "metadata";
        const { name, version } = target(m);
        const served = servedVersion(name, version);
        Object.assign(resolved, { model: name, version: served.version });
        return send(res, 200, modelMetadata(served));
      }
      if (["/metrics", "/healthz", "/readyz"].includes(path)) routeName = path.slice(1);
      if (path === "/metrics") return send(res, 200, await pool.metrics(), { "content-type": pool.metricsRegistry.contentType });
      if (path === "/healthz") {
        return send(res, 200, { status: "alive", workers: pool.workers.map((w) => ({ pid: w.info.pid, remote: w.remote, inFlight: w.inFlight })), queued: pool.queued });
      }
      if (path === "/readyz") return send(res, ready() ? 200 : 503, { ready: ready(), draining });
      const s = STATUS.exec(path);
      if (s) {
        routeName = "status";
        // TF Serving's model status shape.
        const { name, version } = target(s);
        const versions = pool.models().filter((v) => v.name === name && (version === undefined || v.version === version));
        if (versions.length === 0) throw new ModelNotFoundError(name, version ?? null, "not served here");
        return send(res, 200, { model_version_status: versions.map((m) => ({ version: String(m.version), state: m.workers > 0 ? "AVAILABLE" : "LOADING", status: { error_code: "OK", error_message: "" } })) });
      }
      return send(res, 404, { error: `no route ${req.method} ${path}` });
    };
    route().catch((error: Error) => {
      if (res.headersSent) return;
      const status = statusOf(error);
      send(res, status, { error: error.message }, status === 429 || status === 503 ? { "retry-after": "1" } : {});
    });
  });

  server.requestTimeout = options.requestTimeoutMs ?? 60_000;

  /**
   * Stops taking work (readiness turns 503, new connections are refused), answers what is in flight,
   * then closes the pool. Connections still open after `drainTimeoutMs` (a client sending slowly) are closed.
   */
  const drain = async () => {
    draining = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const deadline = setTimeout(() => server.closeAllConnections(), options.drainTimeoutMs ?? 30_000);
    await closed;
    clearTimeout(deadline);
    // Every request is answered by now: what the pool still runs is a reload's loads and warm-ups,
    // which nothing waits for. Cut short, as a start is, rather than outlast a supervisor's stop timeout.
    await pool.close(true);
  };
  return { server, drain };
}
