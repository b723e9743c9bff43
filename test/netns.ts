import { type ChildProcess, type SpawnOptions, execFile, spawn } from "node:child_process";
import { promisify } from "node:util";

/**
 * Network namespaces for tests that need a non-loopback address, whatever interfaces the host has:
 * unshare makes a user and a network namespace (no privileges needed) with `lo` and a veth pair whose
 * end tfb0 carries a documentation address (RFC 5737). test/pool/endpoints.test.ts judges endpoints in
 * one; test/deploy/deploy.test.ts runs a pool in one and a remote worker in another, across the pair.
 */

/** tfb0's address: where a pool listens. */
export const POOL_ADDRESS = "192.0.2.7";
/** The other end's, tfb1, once it is in a namespace of its own. */
export const PEER_ADDRESS = "192.0.2.8";

/** Shell commands for a fresh network namespace: `lo` up, and the veth pair with POOL_ADDRESS on tfb0. */
export const VETH_PAIR = ["ip link set lo up", "ip link add tfb0 type veth peer name tfb1", `ip addr add ${POOL_ADDRESS}/24 dev tfb0`, "ip link set tfb0 up"];

/**
 * Namespaces kept alive by a holder process (a shell that ran the set-up, then sleeps), entered by
 * nsenter for each command: so a test can start, signal and wait for processes inside them one by one.
 */
export class Namespace {
  private constructor(
    private readonly holder: ChildProcess,
    private readonly kinds: readonly ("net" | "mount")[],
  ) {}

  /**
   * Runs `setUp` (shell commands, `$1`… being `args`) in the namespaces that `enter` makes, e.g.
   * `["unshare", "--user", "--map-root-user", "--net"]`, or another Namespace's `command(["unshare", "--net"])`;
   * `kinds` says which of them nsenter enters besides the user namespace.
   */
  static start(enter: string[], kinds: readonly ("net" | "mount")[], setUp: string[], args: string[] = []): Promise<Namespace> {
    const script = [...setUp, "echo ready", "exec sleep infinity"].join(" && ");
    const holder = spawn(enter[0]!, [...enter.slice(1), "sh", "-c", script, "sh", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    return new Promise((resolve, reject) => {
      const collect = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes("ready\n")) resolve(new Namespace(holder, kinds));
      };
      holder.stdout!.on("data", collect);
      holder.stderr!.on("data", collect);
      holder.once("exit", (code) => reject(new Error(`the namespace's set-up exited with ${code}:\n${output}`)));
    });
  }

  /** The holder's pid: what `ip link set DEV netns PID` takes. */
  get pid(): number {
    return this.holder.pid!;
  }

  /** `argv` as a command line that runs it inside these namespaces (nsenter execs it: same pid). */
  command(argv: string[]): string[] {
    const flags = this.kinds.map((k) => `--${k}`);
    return ["nsenter", "-t", String(this.pid), "--user", ...flags, "--preserve-credentials", "--", ...argv];
  }

  spawn(argv: string[], options: SpawnOptions = {}): ChildProcess {
    const [command, ...args] = this.command(argv);
    return spawn(command!, args, options);
  }

  /** Runs `argv` inside to its end; rejects if it fails. */
  async run(argv: string[]): Promise<string> {
    const [command, ...args] = this.command(argv);
    return (await promisify(execFile)(command!, args)).stdout;
  }

  close(): void {
    this.holder.kill("SIGKILL");
  }
}
