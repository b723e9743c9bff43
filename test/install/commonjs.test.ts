import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const exec = promisify(execFile);
const root = new URL("../..", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "tfbridge-cjs-"));

// A default `npm init -y` project ("type": "commonjs"), with tfbridge as installed (dist/, which the
// global setup compiled from src).
beforeAll(async () => {
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "cjs-user", version: "1.0.0", type: "commonjs" }));
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(root, join(dir, "node_modules", "tfbridge"));
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (code: string) => exec(process.execPath, ["-e", code], { cwd: dir }).then(
  ({ stdout }) => ({ code: 0, stdout, stderr: "" }),
  (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
);

describe("tfbridge from CommonJS", () => {
  it.each(["tfbridge", "tfbridge/parity", "tfbridge/serving"])("require(%j) fails with one error that says what works", async (entry) => {
    const { code, stderr } = await run(`try { require(${JSON.stringify(entry)}) } catch (e) { console.error(e.code + ": " + e.message); process.exit(3) }`);
    expect(code).toBe(3);
    expect(stderr).toMatch(/^ERR_TFBRIDGE_ESM_ONLY: tfbridge is an ES module and cannot be loaded with require\(\)\./);
    expect(stderr).toMatch(/"type": "module"/);
    expect(stderr).toMatch(/await import\("tfbridge"\)/);
  });

  it("await import() from CommonJS works, as the error says", async () => {
    const { code, stdout } = await run(`import("tfbridge").then((m) => console.log(typeof m.Bridge, typeof m.ndarray))`);
    expect(code).toBe(0);
    expect(stdout).toBe("function function\n");
  });
});
