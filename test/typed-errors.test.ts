import { describe, expect, it } from "vitest";
import { PythonProxies, ProxyUsageError, WireError } from "../src/index.js";
import { dtypeInfo } from "../src/wire/dtypes.js";
import type { ProxyWorker } from "../src/proxies/proxies.js";
import { tfbridge } from "./cli/run.js";

/** What used to be plain Error/TypeError throws are TfbridgeErrors callers can branch on. */
describe("typed errors", () => {
  it("an unknown dtype is a WireError", () => {
    expect(() => dtypeInfo("complex64" as never)).toThrow(WireError);
  });

  it("toNDArray of something that is not a proxy is a ProxyUsageError, before anything is sent", async () => {
    const proxies = new PythonProxies(null as unknown as ProxyWorker); // never reached: the argument is refused first
    await expect(proxies.toNDArray(42 as never)).rejects.toThrow(ProxyUsageError);
  });

  it("tfbridge worker without --connect says so as a UsageError", async () => {
    const { code, stderr } = await tfbridge("worker");
    expect(code).toBe(2);
    expect(stderr).toMatch(/^tfbridge worker: --connect tcp:\/\/HOST:PORT is required/);
  });
});
