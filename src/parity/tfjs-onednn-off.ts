import { type ChildProcess, fork } from "node:child_process";
import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import { TfbridgeError } from "../errors.js";
import type { KerasModelConfig } from "../models/config.js";
import type { LayerOutputInfo, ModelWeights } from "../models/handle.js";
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
  /** The end of the child's stderr, for the error when it dies. */
  private stderr = "";

  run(request: TwinRequest): Promise<NDArray[]> {
    const next = this.queue.then(() => this.ask(request));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private ask(request: TwinRequest): Promise<NDArray[]> {
    const child = (this.child ??= this.start());
    return new Promise<NDArray[]>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new ControlRunError(`the oneDNN-off tfjs-node process exited (${code}) before it answered: ${this.stderr.trim().split("\n").slice(-3).join(" | ")}`));
      child.once("exit", onExit);
      child.once("message", (reply: TwinReply) => {
        child.off("exit", onExit);
        if ("error" in reply) reject(new ControlRunError(`tfjs-node with oneDNN off: ${reply.error}`));
        else resolve(reply.outputs);
      });
      child.send(request);
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
    this.stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-2000)));
    child.on("exit", () => {
      if (this.child === child) this.child = undefined;
    });
    return child;
  }

  async close(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((done) => child.once("exit", done));
    child.disconnect();
    await exited;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
