import { existsSync } from "node:fs";
import { ModelError, UsageError } from "../errors.js";
import { type ServeConfig, checkServeConfig, readServeConfig } from "../http/config.js";
import { type Serving, startServing } from "../http/serve.js";
import { numberFlag, parseCommandLine } from "./args.js";
import type { CommandContext } from "./context.js";

export const SERVE_USAGE = `usage: tfbridge serve --model NAME=PATH [--model NAME=PATH ...] [--port N] [--host H] [--workers N]
       tfbridge serve --config FILE.json

TensorFlow Serving's REST API over a pool of Python workers: POST /v1/models/NAME[/versions/N]:predict
(row format "instances" or columnar "inputs"), GET /v1/models/NAME[/versions/N] (status) and
.../metadata (signature), /labels/LABEL in place of /versions/N, /metrics (Prometheus), /healthz,
/readyz. SIGTERM or SIGINT drains: requests in flight are answered, then it exits (at once while the
models still load: nothing is served yet); a second one exits at once. SIGHUP rereads --config:
new versions load, then labels and defaults switch, then removed versions unload; no request is dropped. A .keras/.h5 file runs no code from the file; a SavedModel is a
TensorFlow graph, refused when it reaches files (ReadFile, WriteFile, ...).

options:
  --model NAME=PATH       serve a .keras or .h5 file or a SavedModel folder as NAME (repeatable)
  --port N                default 8501; 0 for any free port
  --host H                default 127.0.0.1 (loopback)
  --workers N             Python workers (default: one per CPU)
  --config FILE.json      everything above and more: {"port", "host", "pool": PoolOptions,
                          "service": {"maxBodyBytes", "timeoutMs", "drainTimeoutMs", "requestTimeoutMs",
                          "logRequests"}, (one JSON line per request on stdout)
                          "models": [{"name", "path" | "config" + "seed", "version", "labels", "batching",
                          "maxConcurrentRequests" (unbatched), "warmup" (an .npz of inputs by name)}]}
  --verbose               TensorFlow's C++ logs and the workers' stderr

examples:
  tfbridge serve --model classifier=model.keras
  curl -s localhost:8501/v1/models/classifier:predict -d '{"instances": [[0.1, 0.2, 0.3]]}'
  tfbridge serve --config serve.json`;

const OPTIONS = {
  model: { type: "string", multiple: true },
  port: { type: "string" },
  host: { type: "string" },
  workers: { type: "string" },
  config: { type: "string" },
} as const;

/** The config the command line describes; checked (files included) before anything starts. */
export function serveConfigFromFlags(args: string[]): ServeConfig {
  const { values } = parseCommandLine(args, OPTIONS, []);
  const v = values as { model?: string[]; port?: string; host?: string; workers?: string; config?: string };
  try {
    if (v.config !== undefined) {
      const others = (["model", "port", "host", "workers"] as const).filter((k) => v[k] !== undefined);
      if (others.length) throw new UsageError(`--config holds the whole setup; it cannot be combined with --${others[0]}`);
      if (!existsSync(v.config)) throw new UsageError(`--config ${v.config}: no such file`);
      return readServeConfig(v.config);
    }
    if (!v.model?.length) throw new UsageError("--model NAME=PATH (or --config FILE) is required");
    const models = v.model.map((m) => {
      const at = m.indexOf("=");
      if (at < 1) throw new UsageError(`--model must be NAME=PATH, got ${JSON.stringify(m)}`);
      return { name: m.slice(0, at), path: m.slice(at + 1) };
    });
    const workers = numberFlag("workers", v.workers, { integer: true, min: 1 });
    return checkServeConfig(
      { port: numberFlag("port", v.port, { integer: true, min: 0 }) ?? 8501, host: v.host, pool: workers === undefined ? {} : { size: workers }, models },
      process.cwd(),
      "--model",
    );
  } catch (e) {
    throw e instanceof ModelError ? new UsageError(e.message) : e;
  }
}

/** `tfbridge serve`: runs until SIGTERM or SIGINT, then drains; SIGHUP rereads `--config`. The exit status. */
export async function serveCommand(args: string[], context: CommandContext): Promise<number> {
  const config = serveConfigFromFlags(args);
  if (context.verbose) config.pool = { ...config.pool, forwardStderr: true };
  const log = (line: string) => process.stdout.write(`${line}\n`);
  // The signals are handled from the start: while the models load, SIGTERM's default action would end
  // the process without a drain, and SIGHUP's would end it too.
  let serving: Serving | null = null;
  let reloadAsked = false;
  const file = configFileOf(args);
  const reload = () => {
    if (file === undefined) return log("SIGHUP: nothing to reload without --config");
    if (serving === null) {
      reloadAsked = true;
      return log(`SIGHUP: still starting; ${file} is reread once the models are served`);
    }
    log(`SIGHUP: reloading ${file}`);
    const running = serving;
    (async () => running.reload(readServeConfig(file)))().then(
      () => log("reloaded"),
      (e: Error) => log(`reload failed, still serving what was served: ${e.message}`),
    );
  };
  process.on("SIGHUP", reload);
  const stop = new AbortController();
  const stopAsked = new Promise((resolve) => stop.signal.addEventListener("abort", resolve, { once: true }));
  const onStop = (signal: NodeJS.Signals) => {
    if (!stop.signal.aborted) return stop.abort(new Error(`${signal} while starting`));
    // A second stop (Ctrl-C twice, `kill` again): the operator insists. Say what that costs, then end
    // as the signal's default action does, so a supervisor sees the signal in the exit status.
    log(`${signal} again while stopping: exiting now, without answering what is still in flight`);
    // Every listener goes, the pool's own too (a closing Pool turns SIGTERM into a forced close), or
    // the signal raised again would be handled, not end the process.
    for (const s of STOP_SIGNALS) process.removeAllListeners(s);
    process.kill(process.pid, signal);
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onStop);
  try {
    serving = await startServing(config, log, stop.signal);
  } catch (error) {
    process.off("SIGHUP", reload);
    if (!stop.signal.aborted) throw error;
    // A stop asked while the models loaded: nothing was served yet, so nothing is dropped.
    log(`${(stop.signal.reason as Error).message}: stopped before serving`);
    return 0;
  }
  if (reloadAsked) reload();
  await stopAsked;
  process.off("SIGHUP", reload);
  // Its default action would end the drain (a reload racing a stop, a closed terminal).
  const ignoreReload = () => log("SIGHUP while draining: ignored");
  process.on("SIGHUP", ignoreReload);
  await serving.drain();
  return 0;
}

/** Signals that drain and stop; a second one stops at once. */
const STOP_SIGNALS = ["SIGTERM", "SIGINT"] as const;

function configFileOf(args: string[]): string | undefined {
  return (parseCommandLine(args, OPTIONS, []).values as { config?: string }).config;
}
