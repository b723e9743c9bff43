import { execFile } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DOC_PAGES, isNorun, pageBlocks } from "./docs/code-blocks.js";
import { commonjsForm } from "./docs/commonjs-form.js";
import { shareForkServer } from "../src/worker/process.js";

const exec = promisify(execFile);
const root = new URL("..", import.meta.url).pathname;
const tsxLoader = new URL("../node_modules/tsx/dist/loader.mjs", import.meta.url).href;

/**
 * How a block runs: as written, an ES module by its file's extension (`.mts`, `.mjs`); and, for
 * README.md's `ts`/`js` blocks, also in the CommonJS form README.md's Install section gives (`await
 * import("tfbridge")`) as a `.ts`/`.js` file, which the project's `"type": "commonjs"` (what `npm init
 * -y` writes) makes CommonJS, under tsx as under Node.
 */
interface Runner {
  file: string;
  command: (file: string) => [string, string[]];
  /** The file extension of the block's CommonJS form; none for blocks that are not JavaScript. */
  commonjsFile?: string;
}
const RUNNERS: Record<string, Runner> = {
  ts: { file: "mts", commonjsFile: "ts", command: (f) => [process.execPath, ["--import", tsxLoader, f]] },
  js: { file: "mjs", commonjsFile: "js", command: (f) => [process.execPath, [f]] },
  sh: { file: "sh", command: (f) => ["bash", ["-e", f]] },
};
/** README.md's blocks are the first thing a new user copies into a default project. */
const ALSO_AS_COMMONJS = new Set(["README.md"]);
const ALIASES: Record<string, string> = { typescript: "ts", javascript: "js", bash: "sh", shell: "sh" };

/**
 * What a block says it prints: the comment after each `console.log(...)` line, in order. Compared with
 * its stdout lines without white space and with one kind of quote (`[4, 2]` is Node's `[ 4, 2 ]`).
 */
function promisedOutput(code: string): string[] {
  return code.split("\n").flatMap((line) => {
    const promise = /console\.log\(.*\);\s*\/\/\s*(.+)$/.exec(line);
    return promise ? [promise[1]!.trim()] : [];
  });
}
const normalized = (text: string) => text.replace(/\s+/g, "").replace(/'/g, '"');

/** The promised lines that stdout does not print, in order (each found after the one before it). */
function unkept(promised: string[], stdout: string): string[] {
  const lines = stdout.split("\n").map(normalized);
  let at = 0;
  const missing: string[] = [];
  for (const promise of promised) {
    const found = lines.indexOf(normalized(promise), at);
    if (found < 0) missing.push(promise);
    else at = found + 1;
  }
  return missing;
}

const work = mkdtempSync(join(tmpdir(), "tfbridge-readme-"));
const shim = `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(join(root, "dist", "cli", "main.js"))} "$@"\n`;

/** An executable `tfbridge` in `bin`: what npm install makes of package.json's "bin". */
function installBin(bin: string): void {
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, "tfbridge"), shim);
  chmodSync(join(bin, "tfbridge"), 0o755);
}

let blockEnv: NodeJS.ProcessEnv | undefined;
/**
 * The environment every block runs in. A block's own Bridge or Pool forks its workers from this test's
 * server rather than import TensorFlow once per block. (`npx` gives the CLI runs of shell blocks an
 * environment of its own, npm_* and PATH, so they start their own servers, as a user's would.)
 */
function blockEnvironment(): NodeJS.ProcessEnv {
  if (blockEnv) return blockEnv;
  const bin = join(work, "bin");
  installBin(bin);
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("npm_")));
  env.PATH = `${bin}:${process.env.PATH}`;
  blockEnv = shareForkServer(env);
  return blockEnv;
}

/** A project folder where `tfbridge` is this package, as npm would install it, and `npx tfbridge` its CLI. */
function projectFolder(name: string): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = join(work, name);
  mkdirSync(join(dir, "node_modules"), { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "readme-blocks", private: true, type: "commonjs" }));
  symlinkSync(root, join(dir, "node_modules", "tfbridge"));
  // npm installs a package's dependencies beside it, where a block's own imports (prom-client) find them.
  const { dependencies } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { dependencies: Record<string, string> };
  for (const dep of Object.keys(dependencies)) symlinkSync(join(root, "node_modules", dep), join(dir, "node_modules", dep));
  installBin(join(dir, "node_modules", ".bin"));
  return { dir, env: blockEnvironment() };
}

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("the docs' code blocks", () => {
  it("a block's promised output is checked: a comment that stdout does not print is found", () => {
    const block = 'console.log(shape); // [4, 2]\nconsole.log(x);\nconsole.log(names); // ["a", "b"]\n';
    expect(promisedOutput(block)).toEqual(["[4, 2]", '["a", "b"]']);
    expect(unkept(promisedOutput(block), "[ 4, 2 ]\nother\n[ 'a', 'b' ]\n")).toEqual([]);
    expect(unkept(promisedOutput(block), "[ 'a', 'b' ]\n[ 4, 2 ]\n")).toEqual(['["a", "b"]']);
    expect(unkept(["true 5 5"], "false 4 5\n")).toEqual(["true 5 5"]);
  });

  it("a block's CommonJS form loads every name with await import(), and keeps type-only names as types", () => {
    const form = commonjsForm('import { Bridge, type PyProxy, ndarray as nd } from "tfbridge"; // c\nimport type { NDArray } from "tfbridge";\nimport * as fs from "node:fs";\nimport tf from "x";\nawait Bridge.start();\n');
    expect(form).toContain('type PyProxy = import("tfbridge").PyProxy;\nconst { Bridge, ndarray: nd } = await import("tfbridge");');
    expect(form).toContain('type NDArray = import("tfbridge").NDArray;\nconst fs = await import("node:fs");\nconst { default: tf } = await import("x");');
    expect(form).not.toMatch(/^import /m);
    expect(form).toMatch(/^"use strict";\nif \(typeof module === "undefined"\) throw new Error\("not run as CommonJS"\);\n\(async \(\) => \{\n[\s\S]*await Bridge\.start\(\);[\s\S]*\}\)\(\)\.catch/);
    expect(() => commonjsForm('import { default as } from "x";\n')).toThrow(/cannot rewrite import member/);
  });

  it("has runnable blocks of each kind, and every not-run block says why", () => {
    const blocks = DOC_PAGES.flatMap((page) => pageBlocks(page).map((b) => ({ ...b, page })));
    const langs = new Set(blocks.map((b) => ALIASES[b.lang] ?? b.lang));
    for (const lang of ["ts", "js", "sh"]) expect(langs).toContain(lang);
    for (const b of blocks.filter(isNorun)) expect(b.info, `${b.page}:${b.line}`).toMatch(/\bnorun: \S.{5,}/);
  });
});

/** Runs `source` as `file` in `project`: the failure (exit status and stderr) or null, and stdout. */
async function runBlock(project: { dir: string; env: NodeJS.ProcessEnv }, runner: Runner, file: string, source: string) {
  writeFileSync(join(project.dir, file), source);
  const [command, args] = runner.command(join(project.dir, file));
  return exec(command, args, { cwd: project.dir, env: project.env, maxBuffer: 64 * 1024 * 1024 }).then(
    ({ stdout }) => ({ failure: null, stdout }),
    (e: { code: number; stderr: string }) => ({ failure: `exit ${e.code}: ${e.stderr}`, stdout: "" }),
  );
}

// README.md and every page of docs/: each runs in a folder of its own, its blocks in order.
for (const page of DOC_PAGES) {
  const runnable = pageBlocks(page).filter((b) => RUNNERS[ALIASES[b.lang] ?? b.lang] && !isNorun(b));
  if (runnable.length === 0) continue;
  describe(`${page}'s code blocks`, () => {
    let project: { dir: string; env: NodeJS.ProcessEnv };
    beforeAll(() => {
      project = projectFolder(page.replace(/\W+/g, "-"));
    });
    for (const [index, block] of runnable.entries()) {
      const runner = RUNNERS[ALIASES[block.lang] ?? block.lang]!;
      const title = `line ${block.line} (${block.lang}): ${block.code.split("\n").find((l) => l.trim() && !l.startsWith("import"))?.trim().slice(0, 60)}`;
      it(title, { timeout: 300_000 }, async () => {
        const result = await runBlock(project, runner, `block-${index}.${runner.file}`, block.code);
        expect(result.failure).toBeNull();
        expect(unkept(promisedOutput(block.code), result.stdout), `stdout:\n${result.stdout}`).toEqual([]);
      });
      if (!ALSO_AS_COMMONJS.has(page) || !runner.commonjsFile) continue;
      it(`${title} (CommonJS form)`, { timeout: 300_000 }, async () => {
        const result = await runBlock(project, runner, `block-${index}-commonjs.${runner.commonjsFile}`, commonjsForm(block.code));
        expect(result.failure).toBeNull();
        expect(unkept(promisedOutput(block.code), result.stdout), `stdout:\n${result.stdout}`).toEqual([]);
      });
    }
  });
}
