/**
 * docs/deploy.md, run as far as this machine lets it (issue 22, item 7). The unit files, serve.json and
 * the Kubernetes manifests are read out of the page, so that the page is what is tested. systemd cannot
 * start units here (PID 1 is not systemd), so the units' ExecStart lines run the way systemd would run
 * them, by hand: in namespaces whose root is read-only and whose /tmp is their own (ProtectSystem=strict,
 * PrivateTmp=yes), with the units' Environment= and UMask=, signalled as KillSignal= with KillMode=mixed
 * and ExecReload= would, bounded by TimeoutStopSec=. User= cannot be switched to, a Docker engine and a
 * cluster are not here: the manifests are checked for agreeing with each other and with the worker.
 */
import { type ChildProcess, type SpawnOptions, execFile, spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { curveKeyPair } from "zeromq";
import { InsecureConfigError, input, layers, model } from "../../src/index.js";
import { checkPrivate } from "../../src/link/curve.js";
import { CLI_MAIN } from "../cli/run.js";
import { pageBlocks } from "../docs/code-blocks.js";
import { Namespace, PEER_ADDRESS, POOL_ADDRESS, VETH_PAIR } from "../netns.js";

const exec = promisify(execFile);
const blocks = pageBlocks("docs/deploy.md");

/** The one block whose info string is `info` or starts with it ("ini tfbridge-serve.service", "yaml"). */
function block(info: string): string {
  const found = blocks.filter((b) => b.info === info || b.info.startsWith(`${info} `));
  if (found.length !== 1) throw new Error(`docs/deploy.md has ${found.length} blocks "${info}"`);
  return found[0]!.code;
}

type Unit = Map<string, string[]>;

/** A unit file's settings by "Section.Key", each with every value it is given, in order. */
function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section = "";
  for (const line of text.split("\n").map((l) => l.trim())) {
    if (!line || line.startsWith("#") || line.startsWith(";")) continue;
    if (line.endsWith("\\")) throw new Error(`a continued line, which this reader does not join: ${line}`);
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) {
      section = header[1]!;
      continue;
    }
    const at = line.indexOf("=");
    if (at < 1) throw new Error(`not a setting: ${line}`);
    const key = `${section}.${line.slice(0, at)}`;
    unit.set(key, [...(unit.get(key) ?? []), line.slice(at + 1)]);
  }
  return unit;
}

function setting(unit: Unit, key: string): string {
  const values = unit.get(key) ?? [];
  if (values.length !== 1) throw new Error(`${key} is set ${values.length} times`);
  return values[0]!;
}

const units = { serve: block("ini tfbridge-serve.service"), worker: block("ini tfbridge-worker.service") };
const serveUnit = parseUnit(units.serve);
const workerUnit = parseUnit(units.worker);
const serveJson = JSON.parse(block("json serve.json")) as { host: string; port: number; pool: Record<string, any>; service: { drainTimeoutMs: number }; models: unknown[] };

const dir = mkdtempSync(join(tmpdir(), "tfbridge-deploy-"));
/**
 * The page's paths, moved to this checkout: the install folder, whose node_modules/.bin/tfbridge here
 * runs the checkout's CLI from source (as test/cli/run.ts does); /etc/tfbridge (`etc`: several, for
 * workers holding different keys); and the pool's host, the namespace's address.
 */
const moved = (text: string, etc = "etc") =>
  text.replaceAll("/opt/tfbridge", join(dir, "opt")).replaceAll("/etc/tfbridge", join(dir, etc)).replaceAll("pool.example.com", POOL_ADDRESS);

/** A command line as systemd splits it: by white space, which holds only while it has no quotes, specifiers or variables. */
function commandLine(line: string): string[] {
  if (/["'%$\\]/.test(line)) throw new Error(`this reader splits only plain command lines: ${line}`);
  return line.split(/\s+/).filter(Boolean);
}

/** What systemd hands a service: a fixed PATH, the user's HOME (tfbridge's: /nonexistent), then the unit's Environment= (moved). */
function serviceEnv(unit: Unit): NodeJS.ProcessEnv {
  const assignments = (unit.get("Service.Environment") ?? []).flatMap(commandLine).map((a) => moved(a).split(/=(.*)/s, 2) as [string, string]);
  return { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", HOME: "/nonexistent", LANG: "C.UTF-8", ...Object.fromEntries(assignments) };
}

/** Whether systemd counts an exit as clean: status 0, SIGHUP/SIGINT/SIGTERM/SIGPIPE, or listed in SuccessExitStatus=. */
function cleanExit(unit: Unit, { code, signal }: Exit): boolean {
  const listed = (unit.get("Service.SuccessExitStatus") ?? []).flatMap(commandLine);
  if (signal) return ["SIGHUP", "SIGINT", "SIGTERM", "SIGPIPE"].includes(signal) || listed.includes(signal);
  return code === 0 || listed.includes(String(code));
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A unit's process as systemd would start it: its environment and umask, stdin /dev/null, output kept. */
interface Service {
  child: ChildProcess;
  output: () => string;
  exited: Promise<Exit>;
  /** Resolves once the output holds `text` after offset `from`; rejects if the process ends first. */
  until: (text: string, from?: number) => Promise<void>;
}

const services: Service[] = [];

function startService(spawnIn: (argv: string[], options: SpawnOptions) => ChildProcess, unit: Unit, argv: string[]): Service {
  const umask = setting(unit, "Service.UMask");
  const child = spawnIn(["sh", "-c", `umask ${umask} && exec "$@"`, "sh", ...argv], { env: serviceEnv(unit), stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<Exit>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  let ended = false;
  void exited.then(() => (ended = true));
  const until = (text: string, from = 0) =>
    new Promise<void>((resolve, reject) => {
      const check = () => (output.indexOf(text, from) >= 0 ? resolve() : ended ? reject(new Error(`ended before "${text}":\n${output}`)) : setTimeout(check, 50));
      check();
    });
  const service = { child, output: () => output, exited, until };
  services.push(service);
  return service;
}

/** Resolves with `promise`, or rejects once `limit` seconds (a unit's time-out) have passed. */
function within<T>(limit: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${limit} s`)), limit * 1000)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

const seconds = (value: string) => {
  const match = /^(\d+)s?$/.exec(value);
  if (!match) throw new Error(`a time span this test does not read: ${value}`);
  return Number(match[1]);
};

afterAll(() => {
  for (const s of services) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill("SIGKILL"); // a worker's Python follows its wrapper
  rmSync(dir, { recursive: true, force: true });
});

/** A file with this mode whatever the umask. */
function writeWithMode(file: string, text: string, mode: number): void {
  writeFileSync(file, text);
  chmodSync(file, mode);
}

// The checkout's CLI where the page installs tfbridge, and the keys where it keeps them.
const cli = join(dir, "opt", "node_modules", ".bin", "tfbridge");
mkdirSync(dirname(cli), { recursive: true });
writeWithMode(cli, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI_MAIN)} "$@"\n`, 0o755);
const poolKeys = curveKeyPair();
const workerKeys = curveKeyPair();
function keyFolder(name: string, serverKey: string, keysMode = 0o600): void {
  mkdirSync(join(dir, name));
  writeWithMode(join(dir, name, "worker.keys"), `${workerKeys.publicKey}\n${workerKeys.secretKey}\n`, keysMode);
  writeWithMode(join(dir, name, "pool.pub"), `${serverKey}\n`, 0o644);
}
keyFolder("etc", poolKeys.publicKey);
keyFolder("etc-wrong-server-key", curveKeyPair().publicKey); // the worker's own pair is admitted; the pool it expects is not this one
keyFolder("etc-open-keys", poolKeys.publicKey, 0o644);

describe("docs/deploy.md's systemd units", () => {
  // verify checks, among the rest, that ExecStart's program exists and is executable: hence the moved paths.
  it.each(Object.keys(units) as (keyof typeof units)[])("tfbridge-%s.service passes systemd-analyze verify without a warning", async (name) => {
    const file = join(dir, `tfbridge-${name}.service`);
    writeFileSync(file, moved(units[name]));
    const { stderr } = await exec("systemd-analyze", ["verify", file]);
    expect(stderr).toBe(""); // an unknown key or a bad value is only a warning, exit status 0
  });

  // Outside the namespaces: the key file is refused before the worker connects anywhere.
  it("a worker whose key file other users may read exits 2, which its unit does not restart", async () => {
    const argv = commandLine(moved(setting(workerUnit, "Service.ExecStart"), "etc-open-keys"));
    const worker = startService((a, o) => spawn(a[0]!, a.slice(1), o), workerUnit, argv);
    expect(await worker.exited).toEqual({ code: 2, signal: null });
    expect(worker.output()).toMatch(/other users may read it \(mode 0644\): chmod 600/);
    expect(commandLine(setting(workerUnit, "Service.RestartPreventExitStatus"))).toContain("2");
  });
});

describe("docs/deploy.md's serve and worker units, run as systemd would, in two network namespaces", () => {
  let poolSide: Namespace;
  let workerSide: Namespace;
  let serve: Service;
  let worker: Service;
  const x = input({ shape: [3], name: "features" });
  const described = (version: number, labels: string[]) => ({ name: "classifier", version, labels, config: model({ inputs: x, outputs: layers.dense({ units: 2, activation: "softmax" }).apply(x) }), seed: version });
  /**
   * The page's serve.json with real keys; remote workers only (`size` 0: the test's worker is the one
   * that joins, and two local workers would cost two more TensorFlow starts on two cores); and a
   * described model instead of a file (a .keras file would take a Keras run to make).
   */
  const writeConfig = (models: object[]) => {
    const curve = { publicKey: poolKeys.publicKey, secretKey: poolKeys.secretKey, allowedClients: [workerKeys.publicKey] };
    writeWithMode(join(dir, "etc", "serve.json"), JSON.stringify({ ...serveJson, pool: { ...serveJson.pool, size: 0, curve }, models }), 0o640);
  };
  /** An HTTP request to serve from inside the pool's namespace, where it listens. */
  const http = async (path: string, body?: unknown): Promise<{ status: number; body: any }> => {
    const script = `const [path, body] = process.argv.slice(1);
const res = await fetch("http://127.0.0.1:${serveJson.port}" + path, body ? { method: "POST", body } : {});
console.log(JSON.stringify({ status: res.status, body: await res.json() }));`;
    return JSON.parse(await poolSide.run([process.execPath, "--input-type=module", "-e", script, path, ...(body ? [JSON.stringify(body)] : [])]));
  };
  const workers = async () => (await http("/healthz")).body.workers as { pid: number; remote: boolean }[];
  const rows = { instances: [[0.1, -0.2, 0.3], [1, 2, 3]] };
  const startUnit = (ns: Namespace, unit: Unit, etc = "etc") => startService((a, o) => ns.spawn(a, o), unit, commandLine(moved(setting(unit, "Service.ExecStart"), etc)));

  beforeAll(async () => {
    /**
     * What ProtectSystem=strict and PrivateTmp=yes make of the file system: a /tmp of the namespace's
     * own and everything else read-only (/dev, and so /dev/shm, /proc and /sys stay as they are). The
     * test's folder ($1, under the host's /tmp) and the checkout ($2, which a fresh clone may have put
     * under /tmp too) come back read-only through descriptors opened before the private /tmp hides them.
     */
    const asSystemd = [
      'exec 3<"$1" 4<"$2"',
      "mount -t tmpfs -o mode=1777 tmpfs /tmp",
      'mkdir -p "$1" "$2"',
      'mount --no-canonicalize --bind /proc/self/fd/3 "$1"',
      'mount --no-canonicalize --bind /proc/self/fd/4 "$2"',
      "exec 3<&- 4<&-",
      'mount -o remount,bind,ro "$1"',
      'mount -o remount,bind,ro "$2"',
      "mount -o remount,bind,ro /",
    ];
    const checkout = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
    const folders = [dir, checkout];
    poolSide = await Namespace.start(["unshare", "--user", "--map-root-user", "--net", "--mount"], ["net", "mount"], [...asSystemd, ...VETH_PAIR], folders);
    workerSide = await Namespace.start(poolSide.command(["unshare", "--net", "--mount"]), ["net", "mount"], [...asSystemd, "ip link set lo up"], folders);
    await poolSide.run(["ip", "link", "set", "tfb1", "netns", String(workerSide.pid)]);
    await workerSide.run(["sh", "-c", `ip addr add ${PEER_ADDRESS}/24 dev tfb1 && ip link set tfb1 up`]);
  });
  afterAll(() => {
    workerSide?.close();
    poolSide?.close();
  });

  it("serve's ExecStart listens, and is not ready while no worker has joined to load its model", async () => {
    // Every address of the pool's namespace, 192.0.2.7 among them: off loopback, so CurveZMQ is required.
    expect(serveJson.pool.listen).toEqual(["tcp://0.0.0.0:5555"]);
    expect(Object.keys(serveJson.pool.curve).sort()).toEqual(["allowedClients", "publicKey", "secretKey"]);
    writeConfig([described(1, ["stable"])]);
    serve = startUnit(poolSide, serveUnit);
    await serve.until("listening on");
    expect(await http("/readyz")).toEqual({ status: 503, body: { ready: false, draining: false } });
    expect(await workers()).toEqual([]);
  });

  it("the worker unit's ExecStart joins it across the veth pair with CurveZMQ and serves its predictions", { timeout: 120_000 }, async () => {
    worker = startUnit(workerSide, workerUnit);
    // serve loads its model once a worker has joined (waiting up to 60 s from its start).
    await serve.until("model classifier ready");
    const joined = await workers();
    expect(joined).toEqual([expect.objectContaining({ remote: true })]);
    // The pool's member is the Python worker this unit's wrapper started (the namespaces share pids).
    expect(readFileSync(`/proc/${joined[0]!.pid}/stat`, "utf8").split(") ")[1]!.split(" ")[1]).toBe(String(worker.child.pid));
    const { status, body } = await http("/v1/models/classifier:predict", rows);
    expect(status).toBe(200);
    expect(body.predictions).toHaveLength(2);
    for (const row of body.predictions as number[][]) expect(row.reduce((a, b) => a + b)).toBeCloseTo(1, 5); // softmax rows
    expect((await http("/readyz")).status).toBe(200);
  });

  it("a worker holding a wrong server key never joins; SIGTERM ends it with a status its unit counts as clean", { timeout: 60_000 }, async () => {
    const impostor = startUnit(workerSide, workerUnit, "etc-wrong-server-key");
    // Past 10 s without a word from the pool it makes new sockets and says so: it has tried.
    await impostor.until('"reconnecting"');
    expect((await workers()).map((w) => w.pid)).toHaveLength(1);
    impostor.child.kill(setting(workerUnit, "Service.KillSignal") as NodeJS.Signals);
    const exit = await within(seconds(setting(workerUnit, "Service.TimeoutStopSec")), impostor.exited, "the worker's stop");
    expect(cleanExit(workerUnit, exit), JSON.stringify(exit)).toBe(true);
  });

  it("ExecReload makes serve reread serve.json: a version added under a label serves", async () => {
    writeConfig([described(1, ["stable"]), described(2, ["canary"])]);
    const from = serve.output().length;
    const [kill, ...args] = commandLine(setting(serveUnit, "Service.ExecReload").replace("$MAINPID", String(serve.child.pid)));
    await exec(kill!, args);
    await serve.until("reloaded", from);
    expect((await http("/v1/models/classifier/labels/canary")).body.model_version_status).toEqual([expect.objectContaining({ version: "2", state: "AVAILABLE" })]);
    expect((await http("/v1/models/classifier/labels/canary:predict", rows)).status).toBe(200);
  });

  it("KillSignal drains serve, which exits 0 within TimeoutStopSec; its worker then exits 0, which only Restart=always restarts", { timeout: 120_000 }, async () => {
    const stop = seconds(setting(serveUnit, "Service.TimeoutStopSec"));
    expect(stop).toBeGreaterThan(serveJson.service.drainTimeoutMs / 1000);
    expect(setting(serveUnit, "Service.KillMode")).toBe("mixed"); // the signal goes to the main process only, as here
    serve.child.kill(setting(serveUnit, "Service.KillSignal") as NodeJS.Signals);
    expect(await within(stop, serve.exited, "serve's drain")).toEqual({ code: 0, signal: null });
    expect(await within(stop, worker.exited, "the worker's exit")).toEqual({ code: 0, signal: null });
    expect(setting(workerUnit, "Service.Restart")).toBe("always");
  });
});

describe("docs/deploy.md's Kubernetes manifests and container commands", () => {
  // Kubernetes reads YAML 1.1, where 0440 is octal.
  const documents = parseAllDocuments(block("yaml"), { version: "1.1" }).map((d) => {
    if (d.errors.length) throw new Error(d.errors.map((e) => e.message).join("\n"));
    return d.toJS() as Record<string, any>;
  });
  const object = (kind: string, name: string) => {
    const found = documents.filter((d) => d.kind === kind && d.metadata?.name === name);
    if (found.length !== 1) throw new Error(`${found.length} ${kind} ${name}`);
    return found[0]!;
  };
  /** The Secrets that `kubectl create secret generic NAME --from-file=…` makes: their keys, the files' names. */
  const secrets = new Map(
    [...blocks.filter((b) => b.lang === "sh").map((b) => b.code).join("\n").matchAll(/kubectl create secret generic (\S+)((?: --from-file=\S+)+)/g)].map((m) => [
      m[1]!,
      [...m[2]!.matchAll(/--from-file=(?:([^=\s]+)=)?(\S+)/g)].map((f) => f[1] ?? basename(f[2]!)),
    ]),
  );
  const serveDeployment = object("Deployment", "tfbridge-serve");
  const workerDeployment = object("Deployment", "tfbridge-worker");
  const container = (deployment: Record<string, any>, name: string, list = "containers") => (deployment.spec.template.spec[list] as any[]).find((c) => c.name === name);
  const serveContainer = container(serveDeployment, "serve");
  const workerContainer = container(workerDeployment, "worker");
  const flag = (args: string[], name: string) => args[args.indexOf(name) + 1]!;
  const volume = (deployment: Record<string, any>, name: string) => (deployment.spec.template.spec.volumes as any[]).find((v) => v.name === name);
  const mountOf = (c: Record<string, any>, path: string) => (c.volumeMounts as any[]).find((m) => path === m.mountPath || path.startsWith(`${m.mountPath}/`));

  it("workers connect to the pool's Service, which reaches serve's worker port even while serve is not ready", () => {
    const [, host, port] = /^tcp:\/\/([^:]+):(\d+)$/.exec(flag(workerContainer.args, "--connect"))!;
    const poolService = object("Service", host!);
    expect(poolService.spec.publishNotReadyAddresses).toBe(true); // serve is not ready before a worker joins: asserted above
    const servicePort = (poolService.spec.ports as any[]).find((p) => p.port === Number(port));
    const containerPort = (serveContainer.ports as any[]).find((p) => p.name === servicePort.targetPort);
    expect(`tcp://0.0.0.0:${containerPort.containerPort}`).toBe(serveJson.pool.listen[0]);
    expect(serveDeployment.spec.template.metadata.labels).toMatchObject(poolService.spec.selector);
    // HTTP clients' Service: serve's port, on an address the Service can reach.
    const httpService = object("Service", "tfbridge-serve");
    const httpPort = (serveContainer.ports as any[]).find((p) => p.name === httpService.spec.ports[0].targetPort);
    expect(httpPort.containerPort).toBe(serveJson.port);
    expect(serveJson.host).toBe("0.0.0.0");
    expect(serveDeployment.spec.replicas).toBe(1);
  });

  it("serve's config and the workers' keys come from the Secrets made from the files", () => {
    const config = flag(serveContainer.args, "--config");
    const configVolume = volume(serveDeployment, mountOf(serveContainer, config).name);
    expect(configVolume.secret.secretName).toBe("tfbridge-serve-config");
    expect(secrets.get(configVolume.secret.secretName)).toEqual([basename(config)]);
    const keysInit = container(workerDeployment, "keys", "initContainers");
    const secretMount = (keysInit.volumeMounts as any[]).find((m) => volume(workerDeployment, m.name).secret);
    expect(secrets.get(volume(workerDeployment, secretMount.name).secret.secretName)?.sort()).toEqual(["pool.pub", "worker.keys"]);
  });

  it("the init container's copy makes key files the worker accepts, where the Secret's own would be refused", async () => {
    const keysInit = container(workerDeployment, "keys", "initContainers");
    const spec = workerDeployment.spec.template.spec;
    expect(spec.securityContext.fsGroup).toBe(spec.securityContext.runAsUser);
    const here = join(dir, "pod");
    const at = (mountPath: string) => join(here, mountPath);
    // The Secret's files as the kubelet writes them with fsGroup: defaultMode, plus read for the group.
    const secretMount = (keysInit.volumeMounts as any[]).find((m) => volume(workerDeployment, m.name).secret);
    const { secretName, defaultMode } = volume(workerDeployment, secretMount.name).secret;
    expect(defaultMode).toBe(0o440);
    for (const key of secrets.get(secretName)!) {
      mkdirSync(at(secretMount.mountPath), { recursive: true });
      writeWithMode(join(at(secretMount.mountPath), key), key === "worker.keys" ? `${workerKeys.publicKey}\n${workerKeys.secretKey}\n` : `${poolKeys.publicKey}\n`, defaultMode | 0o440);
    }
    for (const m of keysInit.volumeMounts as any[]) mkdirSync(at(m.mountPath), { recursive: true });
    const [shell, dashC, script] = keysInit.command as string[];
    const paths = new RegExp(`(?<=^|\\s)(${(keysInit.volumeMounts as any[]).map((m) => m.mountPath).join("|")})(?=/)`, "g");
    await exec(shell!, [dashC!, script!.replace(paths, (p) => at(p))]);
    // The worker reads its flags' files through its own mounts of the same volumes.
    const inWorker = (path: string) => {
      const mount = mountOf(workerContainer, path);
      const initMount = (keysInit.volumeMounts as any[]).find((m) => m.name === mount.name);
      return join(at(initMount.mountPath), path.slice(mount.mountPath.length));
    };
    const keys = inWorker(flag(workerContainer.args, "--curve-keys"));
    expect(readFileSync(inWorker(flag(workerContainer.args, "--curve-server-key")), "utf8").trim()).toBe(poolKeys.publicKey);
    expect(() => checkPrivate(keys)).not.toThrow();
    expect(() => checkPrivate(join(at(secretMount.mountPath), basename(keys)))).toThrow(InsecureConfigError);
  });

  it("serve's pod and container get the stop time and the shared memory the units and config call for", () => {
    const stop = seconds(setting(serveUnit, "Service.TimeoutStopSec"));
    expect(serveDeployment.spec.template.spec.terminationGracePeriodSeconds).toBe(stop);
    // Each local worker's two regions of linkRegionBytes (256 MiB unless set) live in /dev/shm.
    const needed = serveJson.pool.size * 2 * (serveJson.pool.linkRegionBytes ?? 256 * 2 ** 20);
    const shm = volume(serveDeployment, mountOf(serveContainer, "/dev/shm").name).emptyDir;
    expect(shm.medium).toBe("Memory");
    const bytes = (size: string) => Number(/^(\d+)/.exec(size)![1]) * 2 ** (10 * " kmg".indexOf(/([kmg])i?$/i.exec(size)![1]!.toLowerCase()));
    expect(bytes(shm.sizeLimit)).toBeGreaterThanOrEqual(needed);
    const dockerServe = blocks.find((b) => b.lang === "sh" && b.code.includes("docker run"))!.code.replace(/\\\n\s*/g, "").split("\n").find((l) => l.startsWith("docker run") && l.includes(" serve "))!;
    expect(bytes(/--shm-size (\S+)/.exec(dockerServe)![1]!)).toBeGreaterThanOrEqual(needed);
    expect(Number(/--stop-timeout (\d+)/.exec(dockerServe)![1])).toBe(stop);
  });
});
