import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify, stripVTControlCharacters } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const exec = promisify(execFile);
const root = new URL("../..", import.meta.url).pathname;
const script = join(root, "scripts/test-suites.sh");
const python = join(root, ".venv/bin/python");

/**
 * scripts/test-suites.sh, make test's two suites side by side: real pytest and real vitest over a
 * project of one passing Python test and one failing TypeScript test.
 */
describe("make test's suites", () => {
  let project: string;
  beforeAll(async () => {
    project = await mkdtemp(join(tmpdir(), "tfbridge-suites-"));
    await mkdir(join(project, "python/tests"), { recursive: true });
    await mkdir(join(project, "test"));
    await symlink(join(root, "node_modules"), join(project, "node_modules"));
    await writeFile(join(project, "python/tests/test_one.py"), "def test_one():\n    assert 1 + 1 == 2\n");
    await writeFile(join(project, "vitest.config.mjs"), 'export default { test: { include: ["test/*.test.mjs"] } };\n');
    await writeFile(
      join(project, "test/one.test.mjs"),
      'import { expect, it } from "vitest";\n' +
        'it("passes", () => expect(1).toBe(1));\n' +
        'it("names what failed", () => expect("the answer").toBe("not the answer"));\n',
    );
  });
  afterAll(() => rm(project, { recursive: true, force: true }));

  it("end with vitest's failures, after pytest's log, so a run's tail says what failed", async () => {
    const failed = await exec("bash", [script, python], { cwd: project }).then(
      () => undefined,
      (e: { stdout: string; code: number }) => e,
    );
    expect(failed?.code).toBe(1);
    const out = stripVTControlCharacters(failed!.stdout);
    const pytestPassed = out.search(/^1 passed in [\d.]+s$/m);
    const again = out.indexOf("== vitest failed (exit status 1)");
    expect(pytestPassed).toBeGreaterThan(0);
    expect(again).toBeGreaterThan(pytestPassed);
    const tail = out.slice(again);
    expect(tail).toContain("names what failed");
    expect(tail).toContain('"not the answer"');
    expect(tail).not.toContain("✓ passes");
  });
});
