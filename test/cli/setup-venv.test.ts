import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ensureVenv, venvState } from "../../src/cli/setup.js";
import { SetupError } from "../../src/errors.js";

const dir = mkdtempSync(join(tmpdir(), "tfbridge-setup-venv-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const python = resolve(".venv/bin/python");

describe("tfbridge setup: what is at --venv decides whether it makes one", () => {
  it("nothing: make it; the project's env: keep it", async () => {
    expect(await venvState(join(dir, "none"))).toBe("missing");
    expect(await venvState(resolve(".venv"))).toBe("usable");
  });

  it("a virtualenv without pip (as a failed or interrupted `python -m venv` leaves it) gets pip added in place, keeping what it holds", async () => {
    const half = join(dir, "half");
    execFileSync(python, ["-m", "venv", "--without-pip", half]);
    const kept = join(half, "lib", "python3.11", "site-packages", "users_own.py");
    writeFileSync(kept, "x = 1\n");
    expect(await venvState(half)).toBe("without pip");
    await ensureVenv(half, () => python, false);
    expect(await venvState(half)).toBe("usable");
    expect(existsSync(kept)).toBe(true);
  }, 120_000);

  it("a folder with a Python that is no virtualenv is refused: nothing is installed into it", async () => {
    const other = join(dir, "other");
    mkdirSync(join(other, "bin"), { recursive: true });
    symlinkSync("/bin/false", join(other, "bin", "python"));
    await expect(venvState(other)).rejects.toThrow(SetupError);
    await expect(venvState(other)).rejects.toThrow(/not a virtualenv \(no pyvenv\.cfg\)/);
  });
});
