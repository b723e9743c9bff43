import { spawn } from "node:child_process";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { curveKeyPair } from "zeromq";
import { UsageError } from "../errors.js";
import { packageRoot } from "../paths.js";
import { defaultPython } from "../worker/process.js";

export const WORKER_USAGE = `usage: tfbridge worker --connect tcp://HOST:PORT [--curve-keys FILE --curve-server-key FILE]
       tfbridge keys

worker  runs a Python worker on this machine that joins a pool (Pool.start({ listen, curve })) and
        serves it until the pool disconnects it. Off loopback, CurveZMQ keys are required: from the
        files, or TFBRIDGE_CURVE_PUBLIC_KEY, TFBRIDGE_CURVE_SECRET_KEY, TFBRIDGE_CURVE_SERVER_KEY.
keys    prints a new CurveZMQ key pair: public key, then secret key (Z85).`;

/** `tfbridge worker`: the Python worker in pool mode, in the foreground; resolves with its exit status. */
export function workerCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { connect: { type: "string" }, "curve-keys": { type: "string" }, "curve-server-key": { type: "string" } },
    strict: true,
  });
  if (!values.connect) throw new UsageError("tfbridge worker needs --connect tcp://HOST:PORT");
  // --exit-with-stdin: if this wrapper dies, even by SIGKILL, the worker follows instead of lingering.
  const pythonArgs = ["-m", "tfbridge_worker", "--connect", values.connect, "--exit-with-stdin"];
  if (values["curve-keys"]) pythonArgs.push("--curve-keys", values["curve-keys"]);
  if (values["curve-server-key"]) pythonArgs.push("--curve-server-key", values["curve-server-key"]);
  const child = spawn(defaultPython(), pythonArgs, {
    env: { ...process.env, PYTHONPATH: join(packageRoot, "python"), PYTHONUNBUFFERED: "1" },
    stdio: ["pipe", "inherit", "inherit"],
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
  return new Promise((resolve) => child.on("exit", (code, signal) => resolve(code ?? (signal ? 128 : 1))));
}

export function keysCommand(): number {
  const { publicKey, secretKey } = curveKeyPair();
  process.stdout.write(`${publicKey}\n${secretKey}\n`);
  return 0;
}
