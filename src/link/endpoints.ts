import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { networkInterfaces } from "node:os";
import { InsecureConfigError } from "../errors.js";
import type { CurveServerKeys } from "./curve.js";

/** Transports reachable from this machine only, whatever follows `://`. */
const LOCAL_TRANSPORTS = new Set(["ipc", "inproc"]);
/** Transports with a host part that decides who can reach them. */
const NETWORK_TRANSPORTS = new Set(["tcp", "ws", "wss"]);

function isLoopbackAddress(address: string): boolean {
  const a = address.toLowerCase().replace(/%.*$/, "");
  if (isIP(a) === 4) return a.startsWith("127.");
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) return mapped[1]!.startsWith("127.");
  return a === "::1" || a === "0:0:0:0:0:0:0:1";
}

/** The host part of a tcp/ws/wss endpoint: `tcp://[src;]HOST:PORT`, `ws://HOST:PORT/path`. */
function hostOf(rest: string): string {
  const target = rest.includes(";") ? rest.slice(rest.lastIndexOf(";") + 1) : rest; // libzmq's source-address form
  const authority = target.replace(/\/.*$/, "");
  const bracketed = /^\[([^\]]*)\]/.exec(authority);
  return bracketed ? bracketed[1]! : authority.replace(/:[^:]*$/, "");
}

/**
 * True when only this machine can reach `endpoint`: ipc/inproc, or tcp/ws/wss whose host resolves
 * to loopback addresses only. The host is judged by what it resolves to, not by its text: a literal
 * address, an interface name (libzmq binds to its addresses), or a name looked up like libzmq does.
 * `*`, an unresolvable host, and any other transport are not loopback.
 */
export async function isLoopback(endpoint: string): Promise<boolean> {
  const match = /^([a-z]+):\/\/(.*)$/i.exec(endpoint);
  if (!match) return false;
  const transport = match[1]!.toLowerCase();
  if (LOCAL_TRANSPORTS.has(transport)) return true;
  if (!NETWORK_TRANSPORTS.has(transport)) return false;
  const host = hostOf(match[2]!);
  if (host === "" || host === "*") return false;
  if (isIP(host.replace(/%.*$/, ""))) return isLoopbackAddress(host);
  const iface = networkInterfaces()[host];
  if (iface) return iface.length > 0 && iface.every((a) => isLoopbackAddress(a.address));
  try {
    const addresses = await lookup(host, { all: true });
    return addresses.length > 0 && addresses.every((a) => isLoopbackAddress(a.address));
  } catch {
    return false;
  }
}

/**
 * @throws {InsecureConfigError} for a transport other than ipc, inproc, tcp, ws and wss, and for an
 * endpoint others can reach (see {@link isLoopback}) without CurveZMQ keys.
 */
export async function checkListenEndpoints(endpoints: readonly string[], curve: CurveServerKeys | undefined): Promise<void> {
  for (const endpoint of endpoints) {
    const transport = /^([a-z]+):\/\//i.exec(endpoint)?.[1]?.toLowerCase() ?? "";
    if (!LOCAL_TRANSPORTS.has(transport) && !NETWORK_TRANSPORTS.has(transport)) {
      throw new InsecureConfigError(`refusing to listen on ${endpoint}: only ipc, inproc, tcp, ws and wss endpoints are supported`);
    }
    if (!curve && !(await isLoopback(endpoint))) {
      throw new InsecureConfigError(`refusing to listen on ${endpoint} without CurveZMQ: it is reachable from other machines; pass { curve: { publicKey, secretKey, allowedClients } }`);
    }
  }
  if (curve && curve.allowedClients.length === 0) throw new InsecureConfigError("curve.allowedClients is empty: no worker could join");
}
