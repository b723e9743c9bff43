import { spawn } from "node:child_process";
import { copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { SetupError } from "../errors.js";
import { OutputTail } from "../output-tail.js";
import { packageRoot } from "../paths.js";
import { ONNX_REQUIREMENTS_FILE, ONNX_RUNTIME_VERSION, REQUIREMENTS_FILE, TFJS_NODE_VERSION, cacheDir, defaultVenv, fileHash, onnxProject, requirementsHash, tfjsNodeProject, venvPython, wheelhouse } from "../setup/env.js";
import { parseFlags } from "./args.js";
import type { CommandContext } from "./context.js";
import { step } from "./progress.js";

export const SETUP_USAGE = `usage: tfbridge setup [--venv PATH] [--python PYTHON] [--onnx]

Provisions what tfbridge needs beside Node: a Python virtualenv with the pinned requirements
(python/requirements.txt: TensorFlow, NumPy, pyzmq, …), and tfjs-node with its native addon built
offline against that env's TensorFlow C library (tfjs-node's own installer would download one).
Each step says when it starts and how long it took; a second run only checks.

options:
  --venv PATH       create the env here instead of ~/.cache/tfbridge/venv-<hash of the requirements>
                    ($TFBRIDGE_CACHE_DIR or $XDG_CACHE_HOME move the cache); the cache entry then
                    links to PATH, so the Bridge finds it; downloaded wheels are kept in the cache
                    (or $TFBRIDGE_WHEELHOUSE) for the next env
  --python PYTHON   the interpreter to create the env with (default: python3.11 if found, else python3)
  --onnx            also install the optional ONNX parts for \`convert --to onnx\`: tf2onnx and onnx
                    into the env (python/requirements-onnx.txt), and onnxruntime-node and
                    onnxruntime-web ${ONNX_RUNTIME_VERSION} beside it, without their install scripts
                    (onnxruntime-node's downloads CUDA libraries; its CPU binaries ship in the package)
  --verbose         show the output of pip, npm and the addon build as they run

examples:
  npx tfbridge setup
  npx tfbridge setup --venv ./.tfbridge-venv --python /usr/bin/python3.11
  npx tfbridge setup --onnx

Afterwards \`npx tfbridge doctor\` checks the result. TFBRIDGE_PYTHON, if set, still overrides the env.`;

const OPTIONS = { venv: { type: "string" }, python: { type: "string" }, onnx: { type: "boolean" } } as const;

/** What a finished setup wrote into the env, so that a second run (and doctor) can tell it is complete. */
export interface SetupStamp {
  requirements: string;
  tfjsNode: string;
  /** With `--onnx`: the ONNX requirements' hash and onnxruntime's version. */
  onnx?: { requirements: string; onnxRuntime: string };
}

export const STAMP_FILE = ".tfbridge-setup.json";

export function readStamp(venv: string): SetupStamp | null {
  try {
    return JSON.parse(readFileSync(join(venv, STAMP_FILE), "utf8")) as SetupStamp;
  } catch {
    return null;
  }
}

/** Runs a command; its output is kept (and shown on failure), or streamed with --verbose. */
function run(command: string, args: string[], options: { cwd?: string; verbose: boolean; env?: NodeJS.ProcessEnv }): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    const output = new OutputTail([child.stdout, child.stderr], { forward: options.verbose, bytes: 16_384 });
    child.once("error", (e) => reject(new SetupError(`${command} could not be started: ${e.message}`)));
    child.once("close", (code) => {
      if (code === 0) resolvePromise();
      else reject(new SetupError(`\`${[command, ...args].join(" ")}\` exited with ${code}; its output ended with:\n${output.lastLines(30).join("\n")}`));
    });
  });
}

/**
 * What is at `venv`: nothing yet, a virtualenv whose pip runs, or a virtualenv without pip (an
 * interrupted or failed `python -m venv` leaves one; so does `uv venv`), which gets pip added in place.
 * @throws {SetupError} for a folder with a Python that is not a virtualenv: setup installs nothing into that.
 */
export async function venvState(venv: string): Promise<"missing" | "usable" | "without pip"> {
  if (!existsSync(venvPython(venv))) return "missing";
  try {
    await run(venvPython(venv), ["-m", "pip", "--version"], { verbose: false });
    return "usable";
  } catch {
    if (!existsSync(join(venv, "pyvenv.cfg"))) throw new SetupError(`${venv} has a Python without pip and is not a virtualenv (no pyvenv.cfg): give another --venv`);
    return "without pip";
  }
}

/**
 * A virtualenv at `venv` with pip in it: made with `python()` if there is none; pip added in place to one
 * without (its pip never got in: ensurepip failed on Debian without python3-venv, or a Ctrl-C; left so,
 * every later setup would fail with "No module named pip"). Nothing in an existing one is removed.
 */
export async function ensureVenv(venv: string, python: () => string | Promise<string>, verbose: boolean): Promise<void> {
  const made = await venvState(venv);
  if (made === "missing") {
    const base = await python();
    await step(`creating the virtualenv with ${base}`, () => run(base, ["-m", "venv", venv], { verbose }));
  } else if (made === "without pip") {
    await step("adding pip to the virtualenv, which an earlier setup (or another tool) left without it", () => run(venvPython(venv), ["-m", "ensurepip", "--upgrade"], { verbose }));
  }
}

/** python3.11 if it is on PATH (the wheels are pinned for it), else python3. */
async function basePython(): Promise<string> {
  try {
    await run("python3.11", ["--version"], { verbose: false });
    return "python3.11";
  } catch {
    return "python3";
  }
}

/** Makes the cache entry for these requirements point at `venv`, so that the Bridge finds it. */
function linkDefault(venv: string): string | null {
  const link = defaultVenv();
  if (resolve(link) === venv) return null;
  mkdirSync(dirname(link), { recursive: true });
  let stat;
  try {
    stat = lstatSync(link);
  } catch {
    stat = null;
  }
  if (stat && !stat.isSymbolicLink()) return `${link} is an env of its own; set TFBRIDGE_PYTHON=${venvPython(venv)} to use ${venv}`;
  if (stat) rmSync(link);
  symlinkSync(venv, link);
  return null;
}

/**
 * Installs a pinned requirements file into the env through the wheelhouse: pip download skips the files
 * the wheelhouse already has, so a second env costs no second download.
 */
async function pipInstall(venv: string, requirements: string, what: string, verbose: boolean, note = ""): Promise<void> {
  const wheels = wheelhouse();
  const pip = (...pipArgs: string[]) => run(venvPython(venv), ["-m", "pip", ...pipArgs, "--disable-pip-version-check"], { verbose });
  await step(`downloading ${what} into ${wheels} (pip${note})`, () => pip("download", "--dest", wheels, "-r", requirements));
  await step("installing them into the env (pip)", () => pip("install", "--no-index", "--find-links", wheels, "-r", requirements));
}

/**
 * One of the npm projects setup keeps beside the env (scripts/NAME: package.json and its lock), unless
 * `pkg` is there at `version` already: `npm ci --ignore-scripts`, since both packages' install scripts download.
 */
async function npmProject(project: string, name: string, pkg: string, version: string, shown: string, installing: string, verbose: boolean): Promise<void> {
  const installed = join(project, "node_modules", ...pkg.split("/"), "package.json");
  if (existsSync(installed) && (JSON.parse(readFileSync(installed, "utf8")) as { version: string }).version === version) {
    process.stderr.write(`${shown} ${version}: installed\n`);
    return;
  }
  mkdirSync(project, { recursive: true });
  for (const file of ["package.json", "package-lock.json"]) copyFileSync(join(packageRoot, "scripts", name, file), join(project, file));
  await step(`installing ${installing}`, () => run("npm", ["ci", "--ignore-scripts", "--no-audit", "--no-fund"], { cwd: project, verbose }));
}

/** `setup --onnx`: the ONNX tools into the env and onnxruntime beside it, each skipped when already there. */
async function setupOnnx(venv: string, stamp: SetupStamp | null, verbose: boolean): Promise<NonNullable<SetupStamp["onnx"]>> {
  const wanted = { requirements: fileHash(ONNX_REQUIREMENTS_FILE), onnxRuntime: ONNX_RUNTIME_VERSION };
  if (stamp?.onnx?.requirements === wanted.requirements) {
    process.stderr.write("ONNX tools: up to date\n");
  } else {
    await pipInstall(venv, ONNX_REQUIREMENTS_FILE, "the ONNX tools (tf2onnx, onnx)", verbose);
  }
  // onnxruntime-node's postinstall downloads CUDA libraries (offline it fails); the CPU binaries are in the package.
  await npmProject(onnxProject(venv), "onnx-env", "onnxruntime-node", ONNX_RUNTIME_VERSION, "onnxruntime", `onnxruntime-node and onnxruntime-web ${ONNX_RUNTIME_VERSION} (npm ci, without install scripts)`, verbose);
  return wanted;
}

/** `tfbridge setup`: provisions the Python env and the tfjs-node addon; returns the exit status. */
export async function setupCommand(args: string[], context: CommandContext): Promise<number> {
  const v = parseFlags(args, OPTIONS);
  const venv = resolve(v.venv ?? defaultVenv());
  const hash = requirementsHash();
  const verbose = context.verbose;
  const stamp = readStamp(venv);
  process.stderr.write(`tfbridge setup: Python env ${venv} (requirements ${hash})\n`);

  if (stamp?.requirements === hash) {
    process.stderr.write("Python env: up to date\n");
  } else {
    mkdirSync(dirname(venv), { recursive: true });
    await ensureVenv(venv, () => v.python ?? basePython(), verbose);
    await pipInstall(venv, REQUIREMENTS_FILE, "the pinned Python packages", verbose, "; TensorFlow is about 250 MB");
  }

  const project = tfjsNodeProject(venv);
  // tfjs-node's install script would download libtensorflow; the next step builds the addon instead.
  await npmProject(project, "tfjs-node-env", "@tensorflow/tfjs-node", TFJS_NODE_VERSION, "tfjs-node", `tfjs-node ${TFJS_NODE_VERSION} (npm ci, without its download script)`, verbose);
  await step("building tfjs-node's addon against the env's TensorFlow C library", () =>
    run("bash", [join(packageRoot, "scripts", "build-tfjs-node.sh"), venvPython(venv)], { cwd: project, verbose }),
  );
  // Into the package's own native/build: the Bridge's default, the local link, needs it (without it, ZeroMQ).
  await step("building the local link's shared-memory addon (native/shm.c, with Node's own headers)", () =>
    run("bash", [join(packageRoot, "scripts", "build-shm-addon.sh")], { verbose }),
  );
  const onnx = v.onnx ? await setupOnnx(venv, stamp, verbose) : stamp?.onnx;
  writeFileSync(join(venv, STAMP_FILE), `${JSON.stringify({ requirements: hash, tfjsNode: TFJS_NODE_VERSION, ...(onnx ? { onnx } : {}) } satisfies SetupStamp)}\n`);
  const note = linkDefault(venv);
  if (note) process.stderr.write(`note: ${note}\n`);
  process.stderr.write(`tfbridge setup: ready (cache ${cacheDir()}); \`npx tfbridge doctor\` checks it\n`);
  return 0;
}
