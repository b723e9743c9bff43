import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { tfbridge } from "./run.js";

const COMMANDS = ["setup", "doctor", "demo", "parity", "convert", "serve", "worker", "keys"];
const dir = mkdtempSync(join(tmpdir(), "tfbridge-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A bad command line: one line naming the problem, then the usage; exit status 2; no stack. */
function expectUsageError(result: { stdout: string; stderr: string; code: number }, problem: RegExp): void {
  expect(result.code).toBe(2);
  expect(result.stdout).toBe("");
  const [first, blank, usage] = result.stderr.split("\n");
  expect(first).toMatch(problem);
  expect(blank).toBe("");
  expect(usage).toMatch(/^usage: tfbridge/);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  // The usage lines only, and where the rest is: not the whole help.
  expect(result.stderr).not.toMatch(/\noptions:\n|\nexamples:\n/);
  expect(result.stderr).toMatch(/\n\(`tfbridge( [a-z]+ --help` shows its options and examples| help` lists the commands)\)\n$/);
}

describe("tfbridge command-line conventions", () => {
  it.each(COMMANDS)("%s --help prints its options and examples, exit 0, and does nothing else", async (command) => {
    const { stdout, stderr, code } = await tfbridge(command, "--help");
    expect(code).toBe(0);
    expect(stderr).toBe("");
    expect(stdout).toMatch(new RegExp(`^usage: tfbridge ${command}`));
    expect(stdout).toMatch(/\nexamples:\n/);
    if (command !== "keys") expect(stdout).toMatch(/\noptions:\n/);
    // `keys --help` used to print a new secret key pair.
    expect(stdout.split("\n").some((l) => /^[\x21-\x7e]{40}$/.test(l))).toBe(false);
  });

  it("tfbridge with no command prints the usage on stderr, exit 2", async () => {
    const { stdout, stderr, code } = await tfbridge();
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toMatch(/^usage: tfbridge <command>/);
  });

  it.each([["--version"], ["-V"], ["version"]])("tfbridge %s prints the package's version, exit 0", async (flag) => {
    const { stdout, stderr, code } = await tfbridge(flag);
    expect(code).toBe(0);
    expect(stderr).toBe("");
    expect(stdout).toBe(`tfbridge ${JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")).version}\n`);
  });

  it("tfbridge help lists every command", async () => {
    const { stdout, code } = await tfbridge("help");
    expect(code).toBe(0);
    for (const c of COMMANDS) expect(stdout).toMatch(new RegExp(`\\n  ${c} `));
  });

  it.each([
    [["demo", "--bogus"], /^tfbridge demo: unknown option --bogus$/],
    [["doctor", "--bogus"], /^tfbridge doctor: unknown option --bogus$/],
    [["keys", "--bogus"], /^tfbridge keys: unknown option --bogus$/],
    [["setup", "--venv"], /^tfbridge setup: --venv needs a value$/],
    [["parity", "--bogus"], /^tfbridge parity: unknown option --bogus$/],
    [["parity", "--units"], /^tfbridge parity: --units needs a value$/],
    [["parity", "--units", "-3"], /^tfbridge parity: --units needs a value \(for one starting with "-", write --units=VALUE\)$/],
    [["parity", "--units=-3"], /^tfbridge parity: bad spec: units: must be between 1 and 4096, got -3$/],
    [["parity", "--units", "many"], /^tfbridge parity: --units must be a number, got "many"$/],
    [["parity", "--units", "NaN"], /^tfbridge parity: --units must be a number, got "NaN"$/],
    [["parity", "--batch=-1"], /^tfbridge parity: --batch must be an integer ≥ 1, got "-1"$/],
    [["parity", "--atol", "x"], /^tfbridge parity: --atol must be a number ≥ 0, got "x"$/],
    [["parity", "--activation", "gelu"], /^tfbridge parity: bad spec: activation: must be one of tanh, /],
    [["parity", "--json=yes"], /^tfbridge parity: --json takes no value$/],
    [["parity", "--sweep", "--units", "3"], /^tfbridge parity: unknown option --units$/],
    [["parity", "--unit", "3"], /^tfbridge parity: unknown option --unit \(did you mean --units\?\)$/],
    [["parity", "modle", "x.keras"], /^tfbridge parity: unknown subcommand "modle" \(did you mean model\?\)$/],
    [["convert", "--force", "--jsno"], /^tfbridge convert: unknown option --jsno \(did you mean --json\?\)$/],
    [["pairty"], /^tfbridge: unknown command "pairty" \(did you mean parity\?\)$/],
    [["parity", "--spec", "/nonexistent/spec.json"], /^tfbridge parity: --spec \/nonexistent\/spec.json: no such file$/],
    // Report files are written after the run: a folder that is not there is found before it.
    [["parity", "sweep", "--count", "300", "--markdown", "/nonexistent/table.md"], /^tfbridge parity: --markdown \/nonexistent\/table.md: no such folder \/nonexistent$/],
    [["parity", "lstm", "--html", "/nonexistent/report.html"], /^tfbridge parity: --html \/nonexistent\/report.html: no such folder \/nonexistent$/],
    [["parity", "lstm", "--html", "/tmp"], /^tfbridge parity: --html \/tmp is a folder, not a file$/],
    [["worker"], /^tfbridge worker: --connect tcp:\/\/HOST:PORT is required$/],
    [["worker", "--connect", "nonsense"], /^tfbridge worker: --connect must be tcp:\/\/HOST:PORT \(or ipc:\/\/PATH\), got "nonsense"$/],
    [["worker", "--connect", "tcp://127.0.0.1:5555", "--curve-keys", "/nonexistent.keys"], /^tfbridge worker: --curve-keys \/nonexistent.keys: no such file$/],
    [["worker", "--connect", "tcp://127.0.0.1:99999"], /^tfbridge worker: --connect tcp:\/\/127\.0\.0\.1:99999: the port must be 1…65535$/],
    [["frobnicate"], /^tfbridge: unknown command "frobnicate"$/],
    // Names every object has: once taken for a command ("command.run is not a function", exit 1) and
    // for a parity subcommand (Node's own stack, from an exit status that was not a number).
    [["constructor"], /^tfbridge: unknown command "constructor"$/],
    [["parity", "toString"], /^tfbridge parity: unknown subcommand "toString" \(model, lstm or sweep\)$/],
  ])("%j: one line naming the problem, the usage, exit 2", async (args, problem) => {
    expectUsageError(await tfbridge(...args), problem);
  });

  it("a malformed spec file: the file is named, with where JSON.parse stopped", async () => {
    const file = join(dir, "bad.json");
    writeFileSync(file, '{"units": 4, "inputShape": [10, 1],, }');
    expectUsageError(await tfbridge("parity", "--spec", file), new RegExp(`^tfbridge parity: --spec ${file} is not valid JSON: .*position \\d+`));
  });

  it("--verbose shows the stack of an unexpected error; without it, one line and a hint", async () => {
    // A Python interpreter that does not exist: the worker cannot start.
    const env = { TFBRIDGE_PYTHON: "/nonexistent/python" };
    const quiet = await tfbridge.env(env)("demo");
    expect(quiet.code).toBe(1);
    expect(quiet.stderr).toMatch(/^tfbridge: WorkerStartError: no Python interpreter at \/nonexistent\/python: run `npx tfbridge setup`/);
    expect(quiet.stderr).toMatch(/\(run again with --verbose for the stack\)\n$/);
    expect(quiet.stderr.trim().split("\n")).toHaveLength(2);
    const verbose = await tfbridge.env(env)("demo", "--verbose");
    expect(verbose.code).toBe(1);
    expect(verbose.stderr).toMatch(/WorkerStartError: no Python interpreter[^]*\n\s+at /);
  });

  it("tfbridge worker with an interpreter it cannot run (a folder): one line naming it, exit 1, not Node's stack", async () => {
    const { code, stderr } = await tfbridge.env({ TFBRIDGE_PYTHON: "/tmp" })("worker", "--connect", "tcp://127.0.0.1:5555");
    expect(stderr).toMatch(/^tfbridge: WorkerStartError: \/tmp could not be started: spawn \/tmp EACCES\n/);
    expect(code).toBe(1);
  });
});
