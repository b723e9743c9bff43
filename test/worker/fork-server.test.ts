// Workers forked from a process that imported TensorFlow once (src/worker/fork-server.ts,
// python/tfbridge_worker/fork_server.py). python/tests/test_fork_server.py covers the client's exits and signals.
import { execFile } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { Bridge, type PyProxy, WorkerStartError } from "../../src/index.js";
import { SHARED_FORK_SERVER } from "../../src/worker/fork-server.js";
import { defaultPython, shareForkServer } from "../../src/worker/process.js";
import { parentOf } from "../helpers.js";

const exec = promisify(execFile);

function commandLine(pid: number): string {
  return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// The suite's server (test/global-setup.ts; test/worker/suite-fork-server.test.ts) is set aside: this
// file's workers fork from servers of its own.
delete process.env[SHARED_FORK_SERVER];

describe("the fork server", () => {
  const dir = mkdtempSync(join(tmpdir(), "tfbridge-test-fork-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("forks the workers of one interpreter and environment from one process that imported TensorFlow", async () => {
    await using a = await Bridge.start({ forkServer: true });
    await using b = await Bridge.start({ forkServer: true });
    const server = parentOf(a.pid);
    expect(parentOf(b.pid)).toBe(server);
    expect(server).not.toBe(process.pid);
    expect(commandLine(server)).toContain("tfbridge_worker.fork_server");
    expect((await a.call("hello")).result).toMatchObject({ pid: a.pid });
  });

  it("gives an environment TensorFlow may read at import a server of its own", async () => {
    await using plain = await Bridge.start({ forkServer: true });
    await using other = await Bridge.start({ forkServer: true, env: { TF_ENABLE_ONEDNN_OPTS: "0" } });
    expect(parentOf(other.pid)).not.toBe(parentOf(plain.pid));
    expect(commandLine(parentOf(other.pid))).toContain("tfbridge_worker.fork_server");
  });

  it("starts a fresh interpreter when told not to use one", async () => {
    await using fresh = await Bridge.start({ forkServer: false });
    expect(parentOf(fresh.pid)).toBe(process.pid);
  });

  // NumPy seeds its global generator at first use and Python's random module reseeds after a fork:
  // this holds while nothing the server imports draws from them before forking.
  it("gives each worker its own draws from NumPy's global generator, as a new process has", async () => {
    const draws: number[][] = [];
    for (let i = 0; i < 2; i++) {
      await using bridge = await Bridge.start({ forkServer: true });
      const np = await bridge.python.import("numpy");
      const draw = (await np.random!.rand!(4)) as PyProxy;
      const list = (await draw.tolist!()) as PyProxy;
      draws.push((await list.valueOf!()) as unknown as number[]);
    }
    expect(draws[0]).toHaveLength(4);
    expect(draws[0]).not.toEqual(draws[1]);
  });

  it("ends the worker when its Bridge closes", async () => {
    const bridge = await Bridge.start({ forkServer: true });
    const pid = bridge.pid;
    await bridge.close();
    expect(alive(pid)).toBe(false);
  });

  it("a server that cannot import says why, in the worker's start error", async () => {
    const python = join(dir, "python");
    // The interpreter but for the server: as if TensorFlow's import failed in it.
    writeFileSync(python, `#!/bin/sh\nfor a; do [ "$a" = tfbridge_worker.fork_server ] && { echo "ImportError: no TensorFlow here" >&2; exit 3; }; done\nexec ${defaultPython()} "$@"\n`);
    chmodSync(python, 0o755);
    const error = await Bridge.start({ python, forkServer: true, startTimeoutMs: 60_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkerStartError);
    expect((error as WorkerStartError).message).toContain("ImportError: no TensorFlow here");
    expect((error as WorkerStartError).message).toContain("exited before it could start this worker");
  });
});

describe("a fork server handed down to a child process", () => {
  const dir = mkdtempSync(join(tmpdir(), "tfbridge-test-fork-share-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // The child starts a Bridge and prints which process forked its worker.
  const script = join(dir, "child.mts");
  writeFileSync(
    script,
    `import { Bridge } from ${JSON.stringify(new URL("../../src/index.ts", import.meta.url).pathname)};
import { parentOf } from ${JSON.stringify(new URL("../helpers.ts", import.meta.url).pathname)};
await using bridge = await Bridge.start();
console.log(parentOf(bridge.pid));
`,
  );
  const workerParentIn = async (env: NodeJS.ProcessEnv) => Number((await exec(process.execPath, ["--import", "tsx", script], { env })).stdout.trim());
  const serverPid = (env: NodeJS.ProcessEnv) => Number(env[SHARED_FORK_SERVER]!.split(" ")[1]);

  it("forks the child's worker when its environment is the one shared", { timeout: 120_000 }, async () => {
    const env = shareForkServer({ ...process.env });
    expect(commandLine(serverPid(env))).toContain("tfbridge_worker.fork_server");
    expect(await workerParentIn(env)).toBe(serverPid(env));
  });

  it("is not used for a worker whose environment or CPUs differ", { timeout: 180_000 }, async () => {
    const env = shareForkServer({ ...process.env });
    const own = await workerParentIn({ ...env, TF_ENABLE_ONEDNN_OPTS: "0" });
    expect(own).not.toBe(serverPid(env));
    expect(commandLine(own)).toContain("tfbridge_worker.fork_server");
    // TensorFlow sizes its thread pools by the CPUs a process may use; a forked worker has its server's.
    // CPU 0, or CPU 1 where this run is itself pinned to CPU 0 (as `taskset -c 0 make test` does).
    const ours = /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync("/proc/self/status", "utf8"))![1];
    const other = ours === "0" ? "1" : "0";
    const pinned = Number((await exec("taskset", ["-c", other, process.execPath, "--import", "tsx", script], { env })).stdout.trim());
    expect(pinned).not.toBe(serverPid(env));
  });

  it("is not used once it has ended, nor where its pid names another process", { timeout: 180_000 }, async () => {
    const env = shareForkServer({ ...process.env, SERVER_TO_END: "1" });
    const server = serverPid(env);
    process.kill(server, "SIGKILL");
    while (alive(server)) await new Promise((r) => setTimeout(r, 20));
    expect(await workerParentIn(env)).not.toBe(server);
    // A live process that is not the server (the pid reused): the child must not wait for its socket.
    const impostor = env[SHARED_FORK_SERVER]!.replace(/ \d+ /, ` ${process.pid} `);
    expect(await workerParentIn({ ...env, [SHARED_FORK_SERVER]: impostor })).not.toBe(process.pid);
  });
});
