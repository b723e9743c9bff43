import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { constants as osConstants } from "node:os";
import { join } from "node:path";
import { curveKeyPair } from "zeromq";
import { InsecureConfigError, UsageError, WorkerStartError } from "../errors.js";
import { checkPrivate, isZ85Key } from "../link/curve.js";
import { packageRoot } from "../paths.js";
import { SETUP_COMMAND } from "../setup/env.js";
import { privateDir, removePrivateDir } from "../worker/private-dir.js";
import { defaultPython } from "../worker/process.js";
import { parseFlags } from "./args.js";

export const WORKER_USAGE = `usage: tfbridge worker --connect tcp://HOST:PORT [--curve-keys FILE --curve-server-key FILE]

Runs a Python worker on this machine that joins a pool (Pool.start({ listen, curve })) and serves it
until the pool disconnects it. SIGTERM or Ctrl-C makes it leave: the pool sends it nothing new, it
answers the requests it holds, then exits; a second one ends it at once. Off loopback, CurveZMQ keys are required: from the files, or
TFBRIDGE_CURVE_PUBLIC_KEY, TFBRIDGE_CURVE_SECRET_KEY, TFBRIDGE_CURVE_SERVER_KEY.

options:
  --connect tcp://HOST:PORT   the pool's endpoint
  --curve-keys FILE           this worker's key pair (as \`tfbridge keys\` prints it)
  --curve-server-key FILE     the pool's public key (first line of its \`tfbridge keys\` output)
  --verbose                   TensorFlow's C++ logs

examples:
  tfbridge worker --connect tcp://127.0.0.1:5555
  tfbridge worker --connect tcp://pool.example:5555 --curve-keys worker.keys --curve-server-key pool.pub`;

export const KEYS_USAGE = `usage: tfbridge keys [--out FILE]

A new CurveZMQ key pair (Z85): the public key, then the secret key, one per line. With --out, both go
into FILE, created readable by its owner only (it must not exist), and the public key is printed;
without it, both are printed. A pool or worker refuses a key file that other users may read.

options:
  --out FILE              write the pair to FILE (mode 600) and print the public key

examples:
  tfbridge keys --out pool.keys > pool.pub
  (umask 077; tfbridge keys > pool.keys)`;

/** A ZeroMQ endpoint the worker can connect to: tcp://HOST:PORT, or ipc://PATH on this machine. */
const ENDPOINT = /^(tcp:\/\/[^\s:/]+(:\d{1,5})$|tcp:\/\/\[[0-9a-fA-F:.]+\]:\d{1,5}$|ipc:\/\/.+)/;

/** `tfbridge worker`: the Python worker in pool mode, in the foreground; resolves with its exit status. */
export function workerCommand(args: string[]): Promise<number> {
  const v = parseFlags(args, { connect: { type: "string" }, "curve-keys": { type: "string" }, "curve-server-key": { type: "string" } });
  if (!v.connect) throw new UsageError("--connect tcp://HOST:PORT is required");
  if (!ENDPOINT.test(v.connect)) throw new UsageError(`--connect must be tcp://HOST:PORT (or ipc://PATH), got ${JSON.stringify(v.connect)}`);
  const port = /:(\d+)$/.exec(v.connect)?.[1];
  if (v.connect.startsWith("tcp://") && (Number(port) < 1 || Number(port) > 65535)) throw new UsageError(`--connect ${v.connect}: the port must be 1…65535`);
  for (const flag of ["curve-keys", "curve-server-key"] as const) {
    const file = v[flag];
    if (file !== undefined && !existsSync(file)) throw new UsageError(`--${flag} ${file}: no such file`);
  }
  if ((v["curve-keys"] === undefined) !== (v["curve-server-key"] === undefined)) throw new UsageError("--curve-keys and --curve-server-key go together");
  if (v["curve-keys"] && v["curve-server-key"]) checkKeyFiles(v["curve-keys"], v["curve-server-key"]);
  const python = defaultPython();
  if (!existsSync(python)) throw new WorkerStartError(`no Python interpreter at ${python}: run \`${SETUP_COMMAND}\` (\`make setup\` in a clone), or set TFBRIDGE_PYTHON`);
  // The stop signals are this wrapper's from before its folder and child exist: a SIGTERM in between
  // would take the default action and leave both. A handler only runs once this function has returned.
  let child: ChildProcess | undefined;
  const forward = { SIGINT: () => child?.kill("SIGINT"), SIGTERM: () => child?.kill("SIGTERM") };
  for (const [signal, handler] of Object.entries(forward)) process.on(signal, handler);
  // The worker's temporary files (TensorFlow's autograph modules, …) go here, removed when it ends;
  // named after this process, so the next start sweeps it if this wrapper is SIGKILLed.
  const scratch = privateDir("worker");
  // --exit-with-stdin: if this wrapper dies, even by SIGKILL, the worker follows instead of lingering.
  const pythonArgs = ["-m", "tfbridge_worker", "--connect", v.connect, "--exit-with-stdin", "--temp-dir", scratch];
  if (v["curve-keys"]) pythonArgs.push("--curve-keys", v["curve-keys"]);
  if (v["curve-server-key"]) pythonArgs.push("--curve-server-key", v["curve-server-key"]);
  const started = spawn(python, pythonArgs, {
    env: { ...process.env, PYTHONPATH: join(packageRoot, "python"), PYTHONUNBUFFERED: "1" },
    stdio: ["pipe", "inherit", "inherit"],
    // A group of its own: a terminal's Ctrl-C goes to the whole foreground group, and the worker would
    // get it twice, from the terminal and from us, and take the second for "stop at once".
    detached: true,
  });
  child = started;
  return new Promise((resolve, reject) => {
    // Not an interpreter it may run (a folder, a file without execute permission): unhandled, Node's own stack.
    started.on("error", (e) => {
      for (const [signal, handler] of Object.entries(forward)) process.off(signal, handler);
      removePrivateDir(scratch);
      reject(new WorkerStartError(`${python} could not be started: ${e.message}`));
    });
    started.on("close", (code, signal) => {
      removePrivateDir(scratch);
      if (signal === "SIGINT" || signal === "SIGTERM") {
        // A stop asked of the worker ends the wrapper by the same signal: systemd counts SIGTERM as a
        // clean stop, a shell sees 128+N. A crash (SIGSEGV, SIGABRT) is reported as a status instead:
        // re-raised, it would dump this healthy process's core too.
        process.off(signal, forward[signal]);
        process.kill(process.pid, signal);
      }
      // Where the re-raise does not end this process (PID 1 of a container without init), the status a shell shows for it.
      resolve(code ?? 128 + osConstants.signals[signal!]);
    });
  });
}

/**
 * The worker's key pair and the pool's public key, checked before Python starts: two Z85 keys in one,
 * one in the other (a key pair given as the pool's key is the usual slip: `tfbridge keys` output whole).
 * @throws {UsageError} naming the file and what it must hold.
 */
function checkKeyFiles(keysFile: string, serverKeyFile: string): void {
  try {
    checkPrivate(keysFile);
  } catch (e) {
    throw e instanceof InsecureConfigError ? new UsageError(`--curve-keys ${e.message}`) : e;
  }
  const keys = (file: string) => {
    try {
      return readFileSync(file, "latin1").split(/\s+/).filter(Boolean);
    } catch (e) {
      throw new UsageError(`${file === keysFile ? "--curve-keys" : "--curve-server-key"} ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  };
  const pair = keys(keysFile);
  if (pair.length !== 2 || !pair.every(isZ85Key)) throw new UsageError(`--curve-keys ${keysFile} must hold this worker's public and secret key: two Z85 keys of 40 characters, as \`tfbridge keys\` writes them`);
  const server = keys(serverKeyFile);
  if (server.length === 2 && server.every(isZ85Key)) throw new UsageError(`--curve-server-key ${serverKeyFile} holds a key pair, a secret key included: give the pool's public key alone (the first line; \`tfbridge keys --out FILE\` prints it)`);
  if (server.length !== 1 || !isZ85Key(server[0]!)) throw new UsageError(`--curve-server-key ${serverKeyFile} must hold the pool's public key: one Z85 key of 40 characters`);
}

/** `tfbridge keys`. */
export async function keysCommand(args: string[]): Promise<number> {
  const v = parseFlags(args, { out: { type: "string" } });
  const { publicKey, secretKey } = curveKeyPair();
  if (v.out === undefined) {
    process.stdout.write(`${publicKey}\n${secretKey}\n`);
    return 0;
  }
  try {
    // "wx": never over an existing file (its mode, or a link's target, is not ours to trust).
    writeFileSync(v.out, `${publicKey}\n${secretKey}\n`, { mode: 0o600, flag: "wx" });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") throw new UsageError(`--out ${v.out} exists; tfbridge keys does not overwrite a key file`);
    throw e;
  }
  process.stdout.write(`${publicKey}\n`);
  return 0;
}
