import { randomUUID } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { Router, curveKeyPair } from "zeromq";
import { InsecureConfigError } from "../errors.js";

/** CurveZMQ keys of a pool (Z85 text, as `tfbridge keys` or zmq.curve_keypair() make them). */
export interface CurveServerKeys {
  publicKey: string;
  secretKey: string;
  /** Public keys of the workers allowed to join; anyone else is refused at the handshake. */
  allowedClients: readonly string[];
}

const Z85 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

/** Whether `text` is a CurveZMQ key as Z85 text: 40 characters of its alphabet (32 bytes). */
export function isZ85Key(text: string): boolean {
  return text.length === 40 && [...text].every((c) => Z85.includes(c));
}

/** Z85 text of bytes whose length is a multiple of 4 (a CurveZMQ key is 32 bytes, 40 characters). */
export function z85Encode(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 4) {
    let value = ((bytes[i]! << 24) | (bytes[i + 1]! << 16) | (bytes[i + 2]! << 8) | bytes[i + 3]!) >>> 0;
    let chunk = "";
    for (let j = 0; j < 5; j++) {
      chunk = Z85[value % 85]! + chunk;
      value = Math.floor(value / 85);
    }
    out += chunk;
  }
  return out;
}

/**
 * ZeroMQ's ZAP handler for this process: CurveZMQ encrypts, ZAP authenticates. There is one ZAP
 * endpoint per process (inproc://zeromq.zap.01), so one handler serves every pool, each under a ZAP
 * domain of its own with its own allowed public keys; any other handshake is refused with status 400.
 */
class ZapHandler {
  private readonly socket = new Router({ linger: 0 });
  private readonly domains = new Map<string, ReadonlySet<string>>();
  private started: Promise<void> | null = null;

  /** Admits `allowed` public keys to sockets whose zapDomain is `domain`; returns the undo. */
  async register(domain: string, allowed: ReadonlySet<string>): Promise<() => void> {
    this.domains.set(domain, allowed);
    this.started ??= this.socket.bind("inproc://zeromq.zap.01").then(() => void this.serve());
    await this.started;
    return () => {
      this.domains.delete(domain);
      if (this.domains.size === 0) this.close(); // nothing left to guard: let Node exit
    };
  }

  private async serve(): Promise<void> {
    try {
      for await (const [routingId, empty, version, requestId, domain, , , mechanism, key] of this.socket) {
        const allowed = this.domains.get(domain?.toString() ?? "");
        const ok = mechanism?.toString() === "CURVE" && key !== undefined && allowed?.has(z85Encode(key)) === true;
        const status = ok ? ["200", "OK"] : ["400", "public key not allowed"];
        await this.socket.send([routingId!, empty!, version!, requestId!, ...status, "", ""]);
      }
    } catch {
      // closed
    }
  }

  private close(): void {
    this.socket.close();
    if (zap === this) zap = undefined;
  }
}

let zap: ZapHandler | undefined;

/** Lets only `allowed` public keys through CURVE handshakes on sockets with zapDomain `domain`. */
export function allowCurveClients(domain: string, allowed: ReadonlySet<string>): Promise<() => void> {
  zap ??= new ZapHandler();
  return zap.register(domain, allowed);
}

/**
 * Makes a pool's ROUTER a CurveZMQ server under a ZAP domain of its own. Local workers get a key pair
 * of their own, allowed beside the configured remote ones; `allow()` registers the ZAP rules (and
 * returns their undo) before the socket binds.
 */
export function curveServer(router: Router, curve: CurveServerKeys): { localKeys: { publicKey: string; secretKey: string }; allow(): Promise<() => void> } {
  const localKeys = curveKeyPair();
  const zapDomain = `tfbridge-${randomUUID()}`;
  router.curveServer = true;
  router.curveSecretKey = curve.secretKey;
  router.zapDomain = zapDomain;
  const allowed = new Set([...curve.allowedClients, localKeys.publicKey]);
  return { localKeys, allow: () => allowCurveClients(zapDomain, allowed) };
}

/**
 * A file holding a secret key must be its owner's alone, as ssh insists for its keys.
 * @throws {InsecureConfigError} naming the file, its mode and the fix.
 */
export function checkPrivate(file: string): void {
  const mode = statSync(file).mode & 0o777;
  if (mode & 0o077) throw new InsecureConfigError(`${file} holds a secret key but other users may read it (mode ${mode.toString(8).padStart(4, "0")}): chmod 600 ${file}`);
}

/**
 * A pool's CurveZMQ keys from files: `keysFile` holds its public and secret key (Z85, whitespace
 * separated, as `tfbridge keys` prints them), `allowedFile` one allowed worker public key per line.
 */
export function curveKeysFromFiles(keysFile: string, allowedFile: string): CurveServerKeys {
  checkPrivate(keysFile);
  const [publicKey, secretKey, ...rest] = readFileSync(keysFile, "ascii").split(/\s+/).filter(Boolean);
  if (!publicKey || !secretKey || rest.length > 0) throw new InsecureConfigError(`${keysFile} must hold a public and a secret key`);
  const allowedClients = readFileSync(allowedFile, "ascii").split(/\s+/).filter(Boolean);
  return { publicKey, secretKey, allowedClients };
}

/** The same from TFBRIDGE_POOL_PUBLIC_KEY, TFBRIDGE_POOL_SECRET_KEY and TFBRIDGE_POOL_ALLOWED_KEYS (comma-separated). */
export function curveKeysFromEnv(env: NodeJS.ProcessEnv = process.env): CurveServerKeys | undefined {
  const { TFBRIDGE_POOL_PUBLIC_KEY: publicKey, TFBRIDGE_POOL_SECRET_KEY: secretKey, TFBRIDGE_POOL_ALLOWED_KEYS: allowed } = env;
  if (!publicKey || !secretKey || !allowed) return undefined;
  return { publicKey, secretKey, allowedClients: allowed.split(",").map((k) => k.trim()).filter(Boolean) };
}
