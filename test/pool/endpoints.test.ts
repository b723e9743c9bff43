import { networkInterfaces } from "node:os";
import { describe, expect, it } from "vitest";
import { InsecureConfigError, Pool } from "../../src/index.js";
import { isLoopback } from "../../src/link/endpoints.js";

// Judged without sending anything: names and addresses are only resolved, never connected to.
const routable = Object.entries(networkInterfaces()).find(([, addresses]) => addresses?.some((a) => !a.internal))?.[0];
const loopbackInterface = Object.entries(networkInterfaces()).find(([, addresses]) => addresses?.every((a) => a.internal))?.[0];

describe("isLoopback judges the resolved address, not the text", () => {
  it.each(["ipc:///tmp/x.sock", "inproc://x", "tcp://127.0.0.1:5555", "tcp://127.9.9.9:1", "tcp://[::1]:5555", "tcp://localhost:5555", "ws://127.0.0.1:5556/p", "tcp://[::ffff:127.0.0.1]:9"])(
    "%s is loopback",
    async (endpoint) => expect(await isLoopback(endpoint)).toBe(true),
  );

  it.each(["ws://10.203.0.1:5556", "wss://10.203.0.1:5556/x", "tcp://127.0.0.1;192.0.2.9:5555", "tcp://*:5555", "tcp://0.0.0.0:5555", "tcp://[::]:5555", "tcp://[::ffff:10.0.0.1]:9", "udp://127.0.0.1:5555", "nonsense"])(
    "%s is not",
    async (endpoint) => expect(await isLoopback(endpoint)).toBe(false),
  );

  it("an interface name counts by the addresses it carries", async () => {
    expect(routable).toBeDefined();
    expect(await isLoopback(`tcp://${routable}:5555`)).toBe(false);
    expect(loopbackInterface).toBeDefined();
    expect(await isLoopback(`tcp://${loopbackInterface}:5555`)).toBe(true);
  });
});

describe("a pool refuses before binding", () => {
  it.each(["ws://10.203.0.1:5556", `tcp://${routable}:0`, "tcp://*:0"])("%s without CurveZMQ", async (endpoint) => {
    await expect(Pool.start({ size: 0, listen: [endpoint] })).rejects.toThrow(InsecureConfigError);
  });

  it("any transport but ipc, inproc, tcp, ws and wss, even with CurveZMQ", async () => {
    const curve = { publicKey: "x", secretKey: "y", allowedClients: ["z"] };
    await expect(Pool.start({ size: 0, listen: ["udp://127.0.0.1:5555"], curve })).rejects.toThrow(/only ipc, inproc, tcp, ws and wss/);
  });
});
