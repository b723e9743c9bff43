// make test's own use of shared fork servers (test/global-setup.ts): its time depends on it.
import { expect, it } from "vitest";
import { Bridge } from "../../src/index.js";
import { ForkServer, SHARED_FORK_SERVER } from "../../src/worker/fork-server.js";
import { parentOf } from "../helpers.js";

it("make test's files fork their default workers from the server its global setup started", async () => {
  const shared = process.env[SHARED_FORK_SERVER];
  if (!ForkServer.byDefault()) {
    expect(shared, "no fork servers, so none to hand down").toBeUndefined();
    return;
  }
  expect(shared, "test/global-setup.ts started no server, or vitest dropped the variable").toBeDefined();
  await using bridge = await Bridge.start();
  expect(parentOf(bridge.pid), "this file's environment is not the one test/global-setup.ts predicted").toBe(Number(shared!.split(" ")[1]));
});
