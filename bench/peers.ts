import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultPython } from "../src/worker/process.js";

/** Stock pythonia, with its own Python process and JSON protocol: what users would use otherwise. */
export interface PythoniaPeer {
  /** Float32 values to Python (JS array → np.array) and back (.tolist().valueOf()). */
  roundTrip(values: Float32Array): Promise<number[]>;
  /** The smallest proxied call. */
  tinyCall(): Promise<unknown>;
  /** A Keras model file loaded in pythonia's Python; its predict takes one batch as nested lists. */
  kerasModel(path: string): Promise<(batch: unknown[]) => Promise<unknown>>;
  exit(): void;
}

type Proxy = { [k: string]: Proxy } & ((...args: unknown[]) => Promise<Proxy>);

export async function startPythonia(): Promise<PythoniaPeer> {
  process.env.PYTHON_BIN = defaultPython(); // pythonia spawns this interpreter at require time
  const { python } = createRequire(import.meta.url)("pythonia") as { python: ((m: string) => Promise<Proxy>) & { exit(): void } };
  const np = await python("numpy");
  const math = await python("math");
  return {
    async roundTrip(values) {
      const array = await np.array$!(Array.from(values), { dtype: "float32" });
      const list = await array.tolist!();
      return (await list.valueOf!()) as unknown as number[];
    },
    tinyCall: () => math.floor!(1.5),
    async kerasModel(path) {
      const keras = await python("keras");
      const model = await keras.saving!.load_model$!(path, { compile: false });
      // As a user would write it: a list to np.array, predict_on_batch, .tolist() back to JS.
      return async (batch) => {
        const x = await np.array$!(batch, { dtype: "float32" });
        const y = await model.predict_on_batch!(x);
        return (await y.tolist!()).valueOf!();
      };
    },
    exit: () => python.exit(),
  };
}

/**
 * A line ping-pong with a bare Python over pipes: the floor for any Node ↔ Python round trip. `ping(ms)`
 * makes Python busy-wait that long before answering, as a worker running a model would: what the round
 * trip costs beyond those `ms` is the machine's own price of waking an idle caller.
 */
export async function startRawPipe(): Promise<{ ping(workMs?: number): Promise<void>; close(): void }> {
  const script = "import sys, time\nfor line in sys.stdin:\n  until = time.monotonic() + float(line) / 1000\n  while time.monotonic() < until: pass\n  sys.stdout.write(line); sys.stdout.flush()";
  const child = spawn(defaultPython(), ["-u", "-c", script], { stdio: ["pipe", "pipe", "inherit"] });
  let waiting: (() => void) | null = null;
  child.stdout!.on("data", () => waiting?.());
  return {
    ping: (workMs = 0) =>
      new Promise<void>((resolve) => {
        waiting = resolve;
        child.stdin!.write(`${workMs}\n`);
      }),
    close: () => child.kill(),
  };
}

/** A bare pyzmq ROUTER that echoes frames, reached by a zeromq.js DEALER: the transport alone, no codec. */
export async function startBareZeromq(): Promise<{ ping(): Promise<void>; close(): void }> {
  const { Dealer } = await import("zeromq");
  const dir = mkdtempSync(join(tmpdir(), "tfbridge-bench-"));
  const endpoint = `ipc://${join(dir, "echo.sock")}`;
  const script = `import sys, zmq\ns = zmq.Context().socket(zmq.ROUTER)\ns.bind(sys.argv[1])\nwhile True: s.send_multipart(s.recv_multipart())`;
  const child = spawn(defaultPython(), ["-c", script, endpoint], { stdio: "ignore" });
  const socket = new Dealer();
  socket.connect(endpoint);
  const frame = Buffer.from('{"v":1,"id":1,"op":"echo","args":{},"arrays":[]}');
  return {
    async ping() {
      await socket.send([frame]);
      await socket.receive();
    },
    close() {
      socket.close();
      child.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
