import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { InsecureConfigError, curveKeysFromFiles } from "../../src/index.js";
import { tfbridge } from "./run.js";

const dir = mkdtempSync(join(tmpdir(), "tfbridge-keys-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("secret key files are their owner's alone", () => {
  it("tfbridge keys --out FILE writes the pair with mode 600, prints the public key, and never overwrites", async () => {
    const file = join(dir, "pool.keys");
    const { stdout, code } = await tfbridge("keys", "--out", file);
    expect(code).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const [publicKey, secretKey] = readFileSync(file, "ascii").trim().split("\n");
    expect(stdout).toBe(`${publicKey}\n`);
    expect(secretKey).toMatch(/^[\x21-\x7e]{40}$/);
    const again = await tfbridge("keys", "--out", file);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/^tfbridge keys: --out .*pool\.keys exists; tfbridge keys does not overwrite a key file$/m);
    expect(readFileSync(file, "ascii").trim().split("\n")[1]).toBe(secretKey);
  });

  it("a pool refuses a key file other users may read (as `tfbridge keys > FILE` leaves it), naming the fix", async () => {
    const file = join(dir, "open.keys");
    const allowed = join(dir, "allowed");
    writeFileSync(file, (await tfbridge("keys")).stdout, { mode: 0o644 });
    chmodSync(file, 0o644);
    writeFileSync(allowed, "");
    expect(() => curveKeysFromFiles(file, allowed)).toThrow(InsecureConfigError);
    expect(() => curveKeysFromFiles(file, allowed)).toThrow(/other users may read it \(mode 0644\): chmod 600/);
    chmodSync(file, 0o600);
    expect(curveKeysFromFiles(file, allowed).secretKey).toMatch(/^[\x21-\x7e]{40}$/);
  });

  it("so does a worker, before it starts: a bad command line", async () => {
    const file = join(dir, "worker.keys");
    const server = join(dir, "server.pub");
    writeFileSync(file, (await tfbridge("keys")).stdout);
    chmodSync(file, 0o640);
    writeFileSync(server, "x".repeat(40));
    const { code, stderr } = await tfbridge("worker", "--connect", "tcp://127.0.0.1:5555", "--curve-keys", file, "--curve-server-key", server);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^tfbridge worker: --curve-keys .*worker\.keys holds a secret key but other users may read it \(mode 0640\): chmod 600 /);
  });

  it("a worker's key files are checked for what they hold before Python starts: exit 2 naming the file", async () => {
    const pair = join(dir, "pair.keys");
    const pool = join(dir, "pool-pair.keys");
    const short = join(dir, "short.keys");
    const pub = join(dir, "pool.pub");
    for (const file of [pair, pool]) writeFileSync(file, (await tfbridge("keys")).stdout, { mode: 0o600 });
    writeFileSync(short, "abc\ndef\n", { mode: 0o600 });
    writeFileSync(pub, `${readFileSync(pool, "ascii").split("\n")[0]}\n`);
    const worker = (...flags: string[]) => tfbridge("worker", "--connect", "tcp://127.0.0.1:5555", ...flags);
    const cases: [string[], RegExp][] = [
      // The pool's whole `tfbridge keys` output where its public key alone belongs: its secret key too.
      [["--curve-keys", pair, "--curve-server-key", pool], /^tfbridge worker: --curve-server-key .*pool-pair\.keys holds a key pair, a secret key included: give the pool's public key alone/],
      [["--curve-keys", short, "--curve-server-key", pub], /^tfbridge worker: --curve-keys .*short\.keys must hold this worker's public and secret key: two Z85 keys of 40 characters/],
      [["--curve-keys", pair, "--curve-server-key", short], /^tfbridge worker: --curve-server-key .*short\.keys must hold the pool's public key: one Z85 key of 40 characters$/],
      [["--curve-keys", pair], /^tfbridge worker: --curve-keys and --curve-server-key go together$/],
      [["--curve-keys", pair, "--curve-server-key", dir], /^tfbridge worker: --curve-server-key .* cannot read it \(EISDIR\)$/],
    ];
    for (const [flags, problem] of cases) {
      const { code, stderr } = await worker(...flags);
      expect(stderr.split("\n")[0], flags.join(" ")).toMatch(problem);
      expect(code).toBe(2);
    }
  });
});
