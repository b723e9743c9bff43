import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { venvState } from "../../src/cli/setup.js";
import { SetupError } from "../../src/errors.js";

const dir = mkdtempSync(join(tmpdir(), "tfbridge-setup-venv-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const python = resolve(".venv/bin/python");

describe("tfbridge setup: what is at --venv decides whether it makes one", () => {
  it("nothing: make it; the project's env: keep it", async () => {
    expect(await venvState(join(dir, "none"))).toBe("missing");
    expect(await venvState(resolve(".venv"))).toBe("usable");
  });

  it("a virtualenv that ensurepip never finished (as a failed or interrupted `python -m venv` leaves it) is made again", async () => {
    const half = join(dir, "half");
    execFileSync(python, ["-m", "venv", "--without-pip", half]);
    expect(await venvState(half)).toBe("without pip");
  });

  it("a folder with a Python that is no virtualenv is refused, not cleared", async () => {
    const other = join(dir, "other");
    mkdirSync(join(other, "bin"), { recursive: true });
    symlinkSync("/bin/false", join(other, "bin", "python"));
    await expect(venvState(other)).rejects.toThrow(SetupError);
    await expect(venvState(other)).rejects.toThrow(/not a virtualenv \(no pyvenv\.cfg\)/);
  });
});
