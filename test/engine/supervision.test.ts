import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { RequestEngine } from "../../src/engine/engine.js";
import { BridgeClosedError, OverloadedError, RequestAbortedError, RequestTimeoutError, WorkerDiedError, WorkerStartError } from "../../src/errors.js";
import { ndarray } from "../../src/wire/ndarray.js";
import { HEARTBEAT_MS, LIVENESS } from "../../src/wire/protocol.js";
import { type FakeWorker, FakeWorkers, fakeEngineOptions } from "./fake-workers.js";

/**
 * The request engine's supervision, on fake workers that answer in-process (test/engine/fake-workers.ts):
 * every step is an explicit event or a fake-timer advance, never a sleep. The real-worker failure
 * suite (test/failures) covers the same ground end to end.
 */

/** Lets queued microtasks and promise callbacks run (the engine's sends and settles are async). */
const settle = () => vi.advanceTimersByTimeAsync(0);

let workers: FakeWorkers;
const engines: RequestEngine[] = [];

async function start(options: Parameters<typeof fakeEngineOptions>[1] = {}): Promise<RequestEngine> {
  const engine = await RequestEngine.start(fakeEngineOptions(workers, options));
  engines.push(engine);
  return engine;
}

beforeEach(() => {
  vi.useFakeTimers();
  workers = new FakeWorkers();
  workers.onSpawn = (w) => queueMicrotask(() => w.ready());
});

afterEach(async () => {
  for (const engine of engines.splice(0)) {
    const closed = engine.close(true);
    await vi.runOnlyPendingTimersAsync();
    await closed;
  }
  vi.useRealTimers();
});

describe("joining", () => {
  it("start resolves once every worker said ready, and each is a member under the id its link names", async () => {
    workers.memberIds = true;
    const engine = await start({ size: 2 });
    expect(engine.memberList.map((m) => m.id).sort()).toEqual(["fake-1", "fake-2"]);
  });

  it("a worker that never says ready fails the start with WorkerStartError when startTimeoutMs passes", async () => {
    workers.onSpawn = () => {};
    const starting = RequestEngine.start(fakeEngineOptions(workers, { startTimeoutMs: 5000 })).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(4999);
    expect(workers.spawned).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(await starting).toBeInstanceOf(WorkerStartError);
  });

  it("a worker of another wire version is refused and told to go; a Bridge-like engine fails its start at once", async () => {
    workers.onSpawn = (w) => queueMicrotask(() => w.ready(1));
    const error = await RequestEngine.start(fakeEngineOptions(workers, { whenLost: "fail", startTimeoutMs: 600_000 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkerStartError);
    expect((error as Error).message).toMatch(/wire version 1, not 2/);
    expect(workers.spawned[0]!.requests("disconnect")).toHaveLength(1);
  });
});

describe("requests", () => {
  it("are sent with their id, op and deadline, and settle with the worker's reply; the reply's buffers are adopted", async () => {
    const engine = await start();
    const worker = workers.spawned[0]!;
    const reply = engine.call("echo", { x: 1 }, [ndarray("int32", [2], Int32Array.of(4, 5))], { timeoutMs: 60_000 });
    await settle();
    const [sent] = worker.requests();
    expect(sent).toMatchObject({ op: "echo", args: { x: 1 }, deadlineMs: 60_000 });
    const message = worker.reply(sent!.id!, { ok: 1 }, [ndarray("int32", [1], Int32Array.of(9))]);
    expect((await reply).result).toEqual({ ok: 1 });
    expect([message.adopted, message.released]).toEqual([true, false]);
  });

  it("a reply nobody waits for any more (timed out) is released, not adopted", async () => {
    const engine = await start();
    const worker = workers.spawned[0]!;
    const reply = engine.call("echo", {}, [], { timeoutMs: 1000 }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(1000);
    expect(await reply).toBeInstanceOf(RequestTimeoutError);
    const late = worker.reply(worker.requests()[0]!.id!);
    expect([late.adopted, late.released]).toEqual([false, true]);
  });

  it("many requests in flight share one deadline timer", async () => {
    const engine = await start({ perWorkerInFlight: Infinity });
    const before = vi.getTimerCount();
    const replies = Array.from({ length: 100 }, (_, i) => engine.call("echo", {}, [], { timeoutMs: 1000 + i }).catch((e: unknown) => e));
    expect(vi.getTimerCount() - before).toBe(1);
    await vi.advanceTimersByTimeAsync(1100);
    expect((await Promise.all(replies)).every((e) => e instanceof RequestTimeoutError)).toBe(true);
  });

  it("a timeout or an abort rejects typed and tells the worker to cancel that request", async () => {
    const engine = await start();
    const worker = workers.spawned[0]!;
    const timedOut = engine.call("sleep", { seconds: 9 }, [], { timeoutMs: 500 }).catch((e: unknown) => e);
    const controller = new AbortController();
    const aborted = engine.call("sleep", { seconds: 9 }, [], { signal: controller.signal }).catch((e: unknown) => e);
    await settle();
    const [first, second] = worker.requests();
    controller.abort();
    expect(await aborted).toBeInstanceOf(RequestAbortedError);
    await vi.advanceTimersByTimeAsync(500);
    expect(await timedOut).toBeInstanceOf(RequestTimeoutError);
    await settle();
    expect(worker.requests("cancel").map((h) => h.id)).toEqual([second!.id, first!.id]);
  });
});

describe("queue room", () => {
  it("whenFull reject: a request past maxQueue is refused with OverloadedError while every worker is busy", async () => {
    const engine = await start({ perWorkerInFlight: 1, maxQueue: 1, whenFull: "reject" });
    const busy = engine.call("sleep", {}, [], {});
    const queued = engine.call("sleep", {}, [], {});
    await expect(engine.call("echo")).rejects.toBeInstanceOf(OverloadedError);
    const worker = workers.spawned[0]!;
    await settle();
    worker.reply(worker.requests()[0]!.id!);
    await busy;
    await settle();
    worker.reply(worker.requests()[1]!.id!);
    await queued;
  });

  it("whenFull wait: a request past maxQueue waits for room, then runs", async () => {
    const engine = await start({ perWorkerInFlight: 1, maxQueue: 1, whenFull: "wait" });
    const worker = workers.spawned[0]!;
    const calls = [engine.call("echo"), engine.call("echo"), engine.call("echo")];
    await settle();
    expect(worker.requests()).toHaveLength(1);
    expect(engine.queued).toBe(1);
    for (let i = 0; i < 3; i++) {
      worker.reply(worker.requests()[i]!.id!);
      await settle();
    }
    await Promise.all(calls);
    expect(worker.requests()).toHaveLength(3);
  });
});

describe("death and retries", () => {
  it("a worker's exit fails its non-idempotent requests, retries idempotent ones once on another, and replaces it", async () => {
    const engine = await start({ size: 2, perWorkerInFlight: 2 });
    const [a, b] = workers.spawned as [FakeWorker, FakeWorker];
    // Least-loaded dispatch alternates a, b, a, b (ties go to the first): a holds an echo and a sleep.
    const calls = [engine.call("echo"), engine.call("echo"), engine.call("sleep", {}, [], { idempotent: false }), engine.call("echo")];
    const outcomes = calls.map((c) => c.then(() => "ok", (e: unknown) => e));
    await settle();
    expect(a.requests().map((h) => h.op)).toEqual(["echo", "sleep"]);
    b.autoReply = true;
    workers.onSpawn = (w) => {
      w.autoReply = true;
      queueMicrotask(() => w.ready());
    };
    for (const h of b.requests()) b.reply(h.id!);
    a.exit(137);
    const results = await Promise.all(outcomes);
    expect(results.slice(0, 2)).toEqual(["ok", "ok"]);
    expect(results[2]).toBeInstanceOf(WorkerDiedError);
    expect(results[3]).toBe("ok");
    expect(engine.stats.retried).toBe(1); // a's echo, once, on b
    expect(b.requests()).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(0); // the replacement starts at once
    expect(workers.spawned).toHaveLength(3);
    expect(engine.stats.replaced).toBe(1);
  });

  it("whenLost fail: the one worker's death fails what is in flight and every later request with why", async () => {
    const engine = await start({ whenLost: "fail" });
    const pending = engine.call("echo").catch((e: unknown) => e);
    await settle();
    workers.spawned[0]!.exit(1);
    const error = await pending;
    expect(error).toBeInstanceOf(WorkerDiedError);
    await expect(engine.call("echo")).rejects.toBe(error);
    expect(workers.spawned).toHaveLength(1); // never replaced
  });

  it("a broken link buries the member as a death does", async () => {
    const engine = await start();
    const pending = engine.call("sleep", {}, [], { idempotent: false }).catch((e: unknown) => e);
    await settle();
    workers.spawned[0]!.breakLink();
    expect(await pending).toBeInstanceOf(WorkerDiedError);
    expect(engine.size).toBe(0);
  });
});

describe("heartbeats", () => {
  it("a worker silent for LIVENESS intervals is buried as hung and replaced; one that heartbeats stays", async () => {
    const engine = await start({ size: 2 });
    const [quiet, chatty] = workers.spawned as [FakeWorker, FakeWorker];
    const stuck = engine.callOn(engine.memberList.find((m) => m.link === quiet)!.id, "sleep").catch((e: unknown) => e);
    // Joining counts as heard; then LIVENESS silent intervals in a row.
    for (let i = 0; i <= LIVENESS; i++) {
      chatty.heartbeat();
      await vi.advanceTimersByTimeAsync(HEARTBEAT_MS);
    }
    const error = await stuck;
    expect(error).toBeInstanceOf(WorkerDiedError);
    expect((error as Error).message).toMatch(new RegExp(`missed ${LIVENESS} heartbeats`));
    expect(engine.memberList.map((m) => m.link)).not.toContain(quiet);
    expect(engine.memberList.map((m) => m.link)).toContain(chatty);
    expect(workers.retired).toContain(quiet);
    expect(engine.stats.heartbeatMisses).toBeGreaterThanOrEqual(LIVENESS);
    expect(chatty.requests("heartbeat").length).toBeGreaterThanOrEqual(LIVENESS - 1); // the engine heartbeats the live
  });
});

describe("leaving (a stop signal reached the worker)", () => {
  it("a leaving worker gets nothing new, answers what it holds, then is told to disconnect and replaced", async () => {
    const engine = await start({ size: 2, perWorkerInFlight: 2 });
    const [leaver, stayer] = workers.spawned as [FakeWorker, FakeWorker];
    const held = engine.callOn(engine.memberList.find((m) => m.link === leaver)!.id, "sleep", {}, [], {});
    await settle();
    leaver.leaving();
    const leaverId = engine.memberList.find((m) => m.link === leaver)!.id;
    expect(engine.memberList.find((m) => m.link === leaver)!.leaving).toBe(true);
    await expect(engine.callOn(leaverId, "echo")).rejects.toThrow(/is leaving/);
    expect(engine.available).toBe(1);
    const later = [engine.call("echo"), engine.call("echo"), engine.call("echo")];
    await settle();
    expect(leaver.requests().map((h) => h.op)).toEqual(["sleep"]); // the three went to the other
    expect(stayer.requests()).toHaveLength(2); // its room: the third waits for it, not for the leaver
    expect(leaver.requests("disconnect")).toHaveLength(0);
    workers.onSpawn = (w) => {
      w.autoReply = true;
      queueMicrotask(() => w.ready());
    };
    leaver.reply(leaver.requests()[0]!.id!);
    await held; // answered, not failed
    await settle();
    expect(leaver.requests("disconnect")).toHaveLength(1);
    expect(engine.memberList.map((m) => m.link)).not.toContain(leaver);
    expect(workers.retired).toContain(leaver);
    expect(workers.spawned).toHaveLength(3); // its replacement, which takes the third
    for (const h of stayer.requests()) stayer.reply(h.id!);
    await Promise.all(later);
    expect(leaver.requests()).toHaveLength(1);
    expect(engine.stats.diedWithRequests).toBe(0);
  });

  it("an idle leaving worker goes at once; whenLost fail: the engine fails with why", async () => {
    const engine = await start({ whenLost: "fail" });
    const worker = workers.spawned[0]!;
    worker.leaving();
    await settle();
    expect(worker.requests("disconnect")).toHaveLength(1);
    await expect(engine.call("echo")).rejects.toThrow(/Python worker left: a stop signal reached it/);
  });

  it("a close hands what waits to a leaving worker with room at once, not after its next reply", async () => {
    const engine = await start({ perWorkerInFlight: 2 });
    engines.length = 0; // closed here
    const worker = workers.spawned[0]!;
    const held = engine.call("sleep", {}, [], {});
    await settle();
    worker.leaving();
    const waiting = engine.call("echo");
    await settle();
    expect(worker.requests().map((h) => h.op)).toEqual(["sleep"]);
    const closing = engine.close(false);
    await settle();
    expect(worker.requests().map((h) => h.op)).toEqual(["sleep", "echo"]);
    for (const h of worker.requests()) worker.reply(h.id!);
    await Promise.all([held, waiting]);
    await vi.runOnlyPendingTimersAsync();
    await closing;
    expect(worker.requests("disconnect")).toHaveLength(1);
  });

  it("while the engine closes, a leaving worker still drains the queue: the stop may be the whole service's", async () => {
    const engine = await start({ perWorkerInFlight: 1 });
    engines.length = 0; // closed here
    const worker = workers.spawned[0]!;
    const calls = [engine.call("echo"), engine.call("echo")];
    await settle();
    const closing = engine.close(false);
    worker.leaving();
    worker.reply(worker.requests()[0]!.id!);
    await settle();
    expect(worker.requests()).toHaveLength(2); // the queued one went to it all the same
    worker.reply(worker.requests()[1]!.id!);
    await Promise.all(calls);
    await vi.runOnlyPendingTimersAsync();
    await closing;
    expect(worker.requests("disconnect")).toHaveLength(1);
  });
});

describe("callOn", () => {
  it("is refused while the engine drains, unless it goes ahead of a request being dispatched; never once forced", async () => {
    const engine = await start({ size: 1 });
    engines.length = 0; // closed here
    const worker = workers.spawned[0]!;
    const id = engine.memberList[0]!.id;
    const held = engine.call("sleep", {}, [], {});
    await settle();
    worker.leaving(); // leaving too: only what goes ahead reaches it
    await expect(engine.callOn(id, "echo")).rejects.toThrow(/is leaving/);
    const closing = engine.close(false);
    await expect(engine.callOn(id, "echo")).rejects.toBeInstanceOf(BridgeClosedError);
    const ahead = engine.callOn(id, "echo", {}, [], {}, true);
    await settle();
    expect(worker.requests().map((h) => h.op)).toEqual(["sleep", "echo"]);
    for (const h of worker.requests()) worker.reply(h.id!);
    await Promise.all([held, ahead]);
    await vi.runOnlyPendingTimersAsync();
    await closing;
    await expect(engine.callOn(id, "echo", {}, [], {}, true)).rejects.toBeInstanceOf(BridgeClosedError); // forced by now
  });
});

describe("closing", () => {
  it("drains: waits for what is in flight, refuses new requests, then tells each worker to disconnect", async () => {
    const engine = await start();
    engines.length = 0; // closed here
    const worker = workers.spawned[0]!;
    const inFlight = engine.call("echo");
    await settle();
    let closed = false;
    const closing = engine.close(false).then(() => (closed = true));
    await expect(engine.call("echo")).rejects.toBeInstanceOf(BridgeClosedError);
    await settle();
    expect(closed).toBe(false);
    worker.reply(worker.requests()[0]!.id!);
    await inFlight;
    await vi.runOnlyPendingTimersAsync();
    await closing;
    expect(worker.requests("disconnect")).toHaveLength(1);
    expect(worker.stopped).not.toBeNull();
  });

  it("a forced close settles everything queued and in flight with BridgeClosedError at once", async () => {
    const engine = await start({ perWorkerInFlight: 1 });
    engines.length = 0;
    const calls = [engine.call("echo"), engine.call("echo")].map((c) => c.catch((e: unknown) => e));
    await settle();
    const closing = engine.close(true);
    for (const outcome of await Promise.all(calls)) expect(outcome).toBeInstanceOf(BridgeClosedError);
    await vi.runOnlyPendingTimersAsync();
    await closing;
  });
});
