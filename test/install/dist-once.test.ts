import { readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { expect, it } from "vitest";

const root = new URL("../..", import.meta.url).pathname;
const testFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? testFiles(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));

// Regression (a fresh clone, 2026-12-05): README blocks and CLI runs read dist/ while the README test,
// the CommonJS test and the packed-tarball tests compiled it again (tsc, npm pack's prepack), and a
// block failed to import dist/bridge.js half rewritten. The global setup compiles it once instead.
it("no test file compiles dist/: the global setup does, once, before any file runs", () => {
  const compiles = (text: string) => /\[\s*"tsc"|tsconfig\.build\.json"/.test(text) || (/"npm",\s*\["pack"/.test(text) && !/"pack",\s*"--ignore-scripts"/.test(text));
  const self = new URL(import.meta.url).pathname;
  const offenders = testFiles(join(root, "test")).filter((f) => f !== self && !f.endsWith("global-setup.ts") && compiles(readFileSync(f, "utf8")));
  expect(offenders.map((f) => relative(root, f))).toEqual([]);
  expect(readFileSync(join(root, "test", "global-setup.ts"), "utf8")).toMatch(/"build"/);
});
