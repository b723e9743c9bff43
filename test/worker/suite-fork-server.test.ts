// make test's own use of a shared fork server (test/global-setup.ts): its time depends on it.
import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { Bridge } from "../../src/index.js";
import { SHARED_FORK_SERVER } from "../../src/worker/fork-server.js";

it("make test's files fork their default workers from the one server its global setup started", async () => {
  const shared = process.env[SHARED_FORK_SERVER];
  expect(shared, "test/global-setup.ts started no server, or vitest dropped the variable").toBeDefined();
  await using bridge = await Bridge.start();
  const workerParent = Number(readFileSync(`/proc/${bridge.pid}/stat`, "utf8").split(") ")[1]!.split(" ")[1]);
  expect(workerParent, "this file's environment is not the one test/global-setup.ts predicted").toBe(Number(shared!.split(" ")[1]));
});
