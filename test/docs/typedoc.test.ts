import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

// `make docs` builds the API reference with typedoc.json (treatWarningsAsErrors): a TSDoc link to
// something unexported, or a public type that names an unexported one, fails here rather than
// leaving a hole in the published reference.
const exec = promisify(execFile);
const root = new URL("../..", import.meta.url).pathname;
const typedoc = join(root, "node_modules", "typedoc", "bin", "typedoc");
const out = mkdtempSync(join(tmpdir(), "tfbridge-typedoc-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("the API reference (typedoc)", () => {
  it("builds from the five entry points without a warning", { timeout: 120_000 }, async () => {
    const result = await exec(process.execPath, [typedoc, "--out", out, "--logLevel", "Warn"], { cwd: root }).then(
      ({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, output: e.stdout + e.stderr }),
    );
    expect(result.output).not.toMatch(/\[warning\]|\[error\]/);
    expect(result.code).toBe(0);
  });
});
