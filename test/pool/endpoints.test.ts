import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { InsecureConfigError, Pool } from "../../src/index.js";
import { isLoopback } from "../../src/link/endpoints.js";
import { VETH_PAIR } from "../netns.js";

// Judged without sending anything: names and addresses are only resolved, never connected to.

/**
 * Interface names are judged in a network namespace of their own (unshare: a user and a network
 * namespace, no privileges needed) holding `lo` and a veth pair with a documentation address, so the
 * test needs no routable interface on the host, and sees the same interfaces on every host.
 */
async function judgeInterfacesInANamespace(): Promise<{ routable: boolean; loopback: boolean; refusal: string | null }> {
  const child = new URL("./interface-endpoints.ts", import.meta.url).pathname;
  // A veth end counts as running (and Node lists it) only with its peer up.
  const setUp = [...VETH_PAIR, "ip link set tfb1 up"].join(" && ");
  const { stdout } = await promisify(execFile)("unshare", ["--user", "--map-root-user", "--net", "sh", "-c", `${setUp} && exec "$0" --import tsx "$1" tfb0 lo`, process.execPath, child]);
  return JSON.parse(stdout);
}

describe("isLoopback judges the resolved address, not the text", () => {
  it.each(["ipc:///tmp/x.sock", "inproc://x", "tcp://127.0.0.1:5555", "tcp://127.9.9.9:1", "tcp://[::1]:5555", "tcp://localhost:5555", "ws://127.0.0.1:5556/p", "tcp://[::ffff:127.0.0.1]:9"])(
    "%s is loopback",
    async (endpoint) => expect(await isLoopback(endpoint)).toBe(true),
  );

  it.each(["ws://10.203.0.1:5556", "wss://10.203.0.1:5556/x", "tcp://127.0.0.1;192.0.2.9:5555", "tcp://*:5555", "tcp://0.0.0.0:5555", "tcp://[::]:5555", "tcp://[::ffff:10.0.0.1]:9", "udp://127.0.0.1:5555", "nonsense"])(
    "%s is not",
    async (endpoint) => expect(await isLoopback(endpoint)).toBe(false),
  );

  it("an interface name counts by the addresses it carries, and a pool refuses a routable one", async () => {
    expect(await judgeInterfacesInANamespace()).toEqual({ routable: false, loopback: true, refusal: "InsecureConfigError" });
  });
});

describe("a pool refuses before binding", () => {
  it.each(["ws://10.203.0.1:5556", "tcp://*:0"])("%s without CurveZMQ", async (endpoint) => {
    await expect(Pool.start({ size: 0, listen: [endpoint] })).rejects.toThrow(InsecureConfigError);
  });

  it("any transport but ipc, inproc, tcp, ws and wss, even with CurveZMQ", async () => {
    const curve = { publicKey: "x", secretKey: "y", allowedClients: ["z"] };
    await expect(Pool.start({ size: 0, listen: ["udp://127.0.0.1:5555"], curve })).rejects.toThrow(/only ipc, inproc, tcp, ws and wss/);
  });
});
