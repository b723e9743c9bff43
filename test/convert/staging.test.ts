import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { StagedDir } from "../../src/convert/staging.js";
import { ConvertError } from "../../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "tfbridge-staging-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("StagedDir (convert's all-or-nothing OUTDIR)", () => {
  it("with force, replaces a non-empty folder only at commit; discard leaves it as it was", () => {
    const target = join(dir, "out");
    mkdirSync(target);
    writeFileSync(join(target, "old.txt"), "old");
    expect(() => new StagedDir(target, false)).toThrow(ConvertError);

    const discarded = new StagedDir(target, true);
    writeFileSync(join(discarded.path, "new.txt"), "new");
    discarded.discard();
    expect(readdirSync(target)).toEqual(["old.txt"]);

    const staged = new StagedDir(target, true);
    writeFileSync(join(staged.path, "new.txt"), "new");
    expect(readdirSync(target)).toEqual(["old.txt"]);
    staged.commit();
    staged.discard(); // after commit: nothing to remove
    expect(readdirSync(target)).toEqual(["new.txt"]);
    expect(statSync(target).mode & 0o777).toBe(0o755);
    expect(readdirSync(dir)).toEqual(["out"]);
  });

  it("with force, refuses an OUTDIR that holds a file to keep (the input) or the working folder", () => {
    const target = join(dir, "holds-input");
    mkdirSync(target);
    writeFileSync(join(target, "model.keras"), "");
    expect(() => new StagedDir(target, true, [join(target, "model.keras")])).toThrow(/holds .*model\.keras: --force would delete it/);
    new StagedDir(dir, true).discard(); // the working folder is the project, not inside dir
    const cwd = process.cwd();
    process.chdir(target);
    try {
      expect(() => new StagedDir(target, true)).toThrow(/--force would delete it/);
    } finally {
      process.chdir(cwd);
    }
    expect(readdirSync(target)).toEqual(["model.keras"]);
  });

  it("with force, refuses an OUTDIR that holds the input when either is reached through a symlink", () => {
    const realParent = join(dir, "real");
    mkdirSync(join(realParent, "out"), { recursive: true });
    writeFileSync(join(realParent, "out", "model.keras"), "");
    symlinkSync(realParent, join(dir, "link"));
    expect(() => new StagedDir(join(realParent, "out"), true, [join(dir, "link", "out", "model.keras")])).toThrow(/--force would delete it/);
    expect(() => new StagedDir(join(dir, "link", "out"), true, [join(realParent, "out", "model.keras")])).toThrow(/--force would delete it/);
    expect(readdirSync(join(realParent, "out"))).toEqual(["model.keras"]);
  });

  it("the next conversion into an OUTDIR removes what a killed one left beside it on this host, and nothing else", () => {
    const parent = join(dir, "killed");
    mkdirSync(parent);
    const dead = spawnSync(process.execPath, ["-e", ""]).pid!; // a process that has ended
    const running = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60_000)"]);
    try {
      const host = hostname();
      const left = `.out.tfbridge-${host}-${dead}-abc123`;
      const kept = [
        `.out.tfbridge-${host}-${running.pid}-def456`, // a live conversion's, still being written
        `.out.tfbridge-${host}-${dead}-abc123.replaced`, // maybe the only copy of the old OUTDIR
        `.out.tfbridge-other-host-${dead}-ghi789`, // another host's: its pid says nothing here
        `.out.tfbridge-${host}-2024-05-backup`, // a name that only looks like one
      ];
      for (const name of [left, ...kept]) mkdirSync(join(parent, name));
      writeFileSync(join(parent, left, "group1-shard1of1.bin"), "partial");
      new StagedDir(join(parent, "out"), false).discard();
      expect(readdirSync(parent).sort()).toEqual([...kept].sort());
    } finally {
      running.kill();
    }
  });

  it("without force, an OUTDIR another conversion filled meanwhile is refused at commit and left as it is", () => {
    const target = join(dir, "raced");
    const first = new StagedDir(target, false);
    const second = new StagedDir(target, false); // both found no OUTDIR
    writeFileSync(join(first.path, "first.txt"), "first");
    writeFileSync(join(second.path, "second.txt"), "second");
    first.commit();
    expect(() => second.commit()).toThrow(/was filled while this conversion ran .*--force replaces it/);
    second.discard();
    expect(readdirSync(target)).toEqual(["first.txt"]);
    expect(readdirSync(dir).filter((n) => n.startsWith(".raced."))).toEqual([]);
    // With force, replacing it is what was asked.
    const forced = new StagedDir(target, true);
    writeFileSync(join(forced.path, "forced.txt"), "forced");
    forced.commit();
    expect(readdirSync(target)).toEqual(["forced.txt"]);
  });

  it("without force, an OUTDIR that is a link to an empty folder is replaced by the new folder, the linked folder untouched", () => {
    const linked = join(dir, "linked-empty");
    mkdirSync(linked);
    const target = join(dir, "out-link");
    symlinkSync(linked, target);
    const staged = new StagedDir(target, false);
    writeFileSync(join(staged.path, "model.json"), "{}");
    staged.commit();
    expect(readdirSync(target)).toEqual(["model.json"]);
    expect(readdirSync(linked)).toEqual([]);
    // One whose folder was filled meanwhile is refused, and left as it is.
    const filled = join(dir, "linked-filled");
    mkdirSync(filled);
    const target2 = join(dir, "out-link-2");
    symlinkSync(filled, target2);
    const refused = new StagedDir(target2, false);
    writeFileSync(join(filled, "other.txt"), "other");
    expect(() => refused.commit()).toThrow(/was filled while this conversion ran/);
    refused.discard();
    expect(readdirSync(target2)).toEqual(["other.txt"]);
  });

  it("an empty existing folder is fine without force; a file in its place is not", () => {
    const empty = join(dir, "empty");
    mkdirSync(empty);
    new StagedDir(empty, false).commit();
    expect(existsSync(empty)).toBe(true);
    writeFileSync(join(dir, "file"), "");
    expect(() => new StagedDir(join(dir, "file"), true)).toThrow(/exists and is not a folder/);
  });
});
