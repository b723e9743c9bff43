import { type ChildProcess, fork } from "node:child_process";
import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import { TfbridgeError } from "../errors.js";
import type { KerasModelConfig } from "../models/config.js";
import type { LayerOutputInfo, ModelWeights } from "../models/handle.js";
import { OutputTail } from "../output-tail.js";
import type { NDArray } from "../wire/ndarray.js";

/** What the child runs: a twin from a config and weights, or a converted model.json; every layer's output. */
export interface TwinRequest {
  config: KerasModelConfig;
  weights: ModelWeights;
  modelJson?: string;
  inputs: readonly NDArray[];
  layers: readonly LayerOutputInfo[];
}

type TwinReply = { outputs: NDArray[] } | { error: string };

/** The oneDNN-off tfjs-node process failed or died. */
export class ControlRunError extends TfbridgeError {
  override name = "ControlRunError";
}

/**
 * tfjs-node with oneDNN off, in a child process: tfjs-node's own kernels follow `TF_ENABLE_ONEDNN_OPTS`
 * too (a [3, 16]×[16, 1] MatMul moved by up to 3 ULP on an AVX-512 EPYC), and TensorFlow reads it once
 * per process, so the twin runs again in a process started with it off. Started on first use; `close()`
 * stops it. Arrays cross as structured clones (typed arrays, no JSON).
 */
export class TfjsOnednnOff implements AsyncDisposable {
  private child: ChildProcess | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** The end of the child's stderr, for the error when it dies. */
  private stderr: OutputTail | undefined;

  /** @param timeoutMs how long one twin may take before the child is killed (default 10 minutes). */
  constructor(private readonly timeoutMs = 600_000) {}

  /** Every layer output of `request.layers` from the twin run with oneDNN off; one request at a time. */
  run(request: TwinRequest): Promise<NDArray[]> {
    const next = this.queue.then(() => this.ask(request));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private ask(request: TwinRequest): Promise<NDArray[]> {
    if (this.closed) return Promise.reject(new ControlRunError("the oneDNN-off tfjs-node process was closed"));
    const child = (this.child ??= this.start());
    return new Promise<NDArray[]>((resolve, reject) => {
      const done = (error: Error | null, outputs?: NDArray[]) => {
        clearTimeout(timer);
        child.off("exit", onExit);
        child.off("message", onMessage);
        if (error) reject(error);
        else resolve(outputs!);
      };
      const onExit = (code: number | null) => done(new ControlRunError(`the oneDNN-off tfjs-node process exited (${code}) before it answered: ${this.stderr?.lastLines(3).join(" | ")}`));
      const onMessage = (reply: TwinReply) => ("error" in reply ? done(new ControlRunError(`tfjs-node with oneDNN off: ${reply.error}`)) : done(null, reply.outputs));
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        done(new ControlRunError(`the oneDNN-off tfjs-node process gave no answer in ${this.timeoutMs / 1000} s and was killed`));
      }, this.timeoutMs);
      child.once("exit", onExit);
      child.on("message", onMessage);
      if (!child.connected) return done(new ControlRunError("the oneDNN-off tfjs-node process is not connected"));
      child.send(request, (error) => error && done(new ControlRunError(`could not send to the oneDNN-off tfjs-node process: ${error.message}`)));
    });
  }

  private start(): ChildProcess {
    // The child is this module's sibling: .js in dist/, .ts from the sources (run through tsx, which a
    // test runner's own transform does not hand down to a child).
    const ext = extname(fileURLToPath(import.meta.url));
    const script = fileURLToPath(new URL(`./tfjs-onednn-off-child${ext}`, import.meta.url));
    const loader = ext === ".ts" && !process.execArgv.includes("tsx") ? ["--import", "tsx"] : [];
    const child = fork(script, [], {
      env: { ...process.env, TF_ENABLE_ONEDNN_OPTS: "0" },
      execArgv: [...process.execArgv, ...loader],
      serialization: "advanced",
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    });
    const stderr = (this.stderr = new OutputTail([child.stderr!], { bytes: 2000 }));
    // A failed send or disconnect is reported by the request it belongs to; unhandled, it would throw.
    child.on("error", (error) => stderr.add(`\n${error.message}`));
    child.on("exit", () => {
      if (this.child === child) this.child = undefined;
    });
    return child;
  }

  /** Stops the child (asked to leave, killed after 5 s); requests still queued then are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((done) => child.once("exit", done));
    if (child.connected) child.disconnect();
    const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(killer);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
