import { type Bridge, Pool } from "../src/index.js";
import { readFileSync } from "node:fs";
import type { BaseEngine } from "./base.js";
import type { PythoniaPeer } from "./peers.js";
import { startBareZeromq, startRawPipe } from "./peers.js";
import { type Summary, progress, round, timeMs } from "./stats.js";

export interface LatencySection {
  /** Round trip of an `echo` with no arrays through the bridge on its default (local) link, in ms. */
  bridge: Summary;
  /** The same on the ZeroMQ link. */
  bridgeZeromq: Summary;
  pythonia: Summary;
  /** One line each way over pipes to a bare Python: the floor. */
  rawPipe: Summary;
  /**
   * Raw pipe round trip − 5 ms when Python works 5 ms before answering: what waking an idle caller
   * costs on this machine, the floor under any per-call cost measured around a model run.
   */
  rawPipeAfterWork5ms: Summary;
  /** The same header frame through zeromq.js and pyzmq with nothing else: the transport's own floor. */
  bareZeromq: Summary;
  /** Bridge p50 ÷ raw pipe p50 (default link). */
  bridgeVsRawPipe: number;
  /** Bridge p50 ÷ pythonia call p50 (default link): below 1 is faster. */
  bridgeVsPythonia: number;
  bridgeZeromqVsRawPipe: number;
  /** Bridge-over-ZeroMQ p50 ÷ bare ZeroMQ p50: what the codec, dispatch and promises add. */
  bridgeVsBareZeromq: number;
  /** `echo` requests per second with up to 256 in flight (default link); best of rounds interleaved with the base's. */
  pipelinedPerSecond: number;
  /** The commit `--base` named, whose engine ran the same pipelined case in this run; null without `--base`. */
  baseRev: string | null;
  /** `pipelinedPerSecond` of the `--base` engine (its own Bridge, codec and worker), best of the same rounds. */
  pipelinedPerSecondBase: number | null;
  /** pipelinedPerSecond ÷ pipelinedPerSecondBase. */
  pipelinedVsBase: number | null;
  /** CPU µs per pipelined request of Node and of the worker, in the best round (this engine; the base's). */
  pipelinedCpuMicros: { node: number; worker: number };
  pipelinedCpuMicrosBase: { node: number; worker: number } | null;
  pipelinedPerSecondZeromq: number;
  /** The same through a Pool of 2 local workers, on the local link (the default). */
  pipelinedPerSecondPool2: number;
  /** The same through a Pool of 2 local workers on the ZeroMQ link. */
  pipelinedPerSecondPool2Zeromq: number;
}

/** `echo` requests per second with up to 256 in flight. */
async function pipelined(client: { call(op: string): Promise<unknown> }, total: number): Promise<number> {
  const t0 = performance.now();
  for (let sent = 0; sent < total; sent += 256) await Promise.all(Array.from({ length: 256 }, () => client.call("echo")));
  return round(total / ((performance.now() - t0) / 1000));
}

/** CPU time a process has used, in µs (Linux /proc; utime + stime, every thread). */
function cpuMicros(pid: number | "self"): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
}
/** Linux's USER_HZ, the unit of /proc/PID/stat's times. */
const CLOCK_TICKS = 100;

/**
 * The pipelined case's rate and CPU per request of Node and of the worker: the CPU figures hold up on
 * a loaded machine, where the rate measures the neighbours as much as the engine.
 */
async function pipelinedWithCpu(client: { call(op: string): Promise<unknown>; pid: number | undefined }, total: number): Promise<{ perSecond: number; nodeMicros: number; workerMicros: number }> {
  const [node0, worker0] = [cpuMicros("self"), cpuMicros(client.pid!)];
  const perSecond = await pipelined(client, total);
  return { perSecond, nodeMicros: round((cpuMicros("self") - node0) / total), workerMicros: round((cpuMicros(client.pid!) - worker0) / total) };
}

export async function latency(bridge: Bridge, zeromq: Bridge, pythonia: PythoniaPeer, quick: boolean, base: BaseEngine | null): Promise<LatencySection> {
  const reps = quick ? 300 : 3000;
  const pipe = await startRawPipe();
  const zmq = await startBareZeromq();
  // Interleaved in rounds, so that a noisy neighbour hits all alike; each keeps its best round.
  const parts = { bridge: [] as Summary[], bridgeZeromq: [] as Summary[], pythonia: [] as Summary[], rawPipe: [] as Summary[], bareZeromq: [] as Summary[] };
  for (let round = 0; round < 3; round++) {
    parts.rawPipe.push(await timeMs(() => pipe.ping(), reps / 3, 20));
    parts.bareZeromq.push(await timeMs(() => zmq.ping(), reps / 3, 20));
    parts.bridge.push(await timeMs(() => bridge.call("echo"), reps / 3, 20));
    parts.bridgeZeromq.push(await timeMs(() => zeromq.call("echo"), reps / 3, 20));
    parts.pythonia.push(await timeMs(() => pythonia.tinyCall(), reps / 6, 10));
  }
  const afterWork = await timeMs(() => pipe.ping(5), quick ? 20 : 100, 3);
  const rawPipeAfterWork5ms = { n: afterWork.n, min: afterWork.min - 5, median: afterWork.median - 5, p99: afterWork.p99 - 5 };
  pipe.close();
  zmq.close();
  const best = (s: Summary[]) => s.reduce((a, b) => (b.median < a.median ? b : a));
  const total = quick ? 2000 : 20000;
  // This engine and the base's in alternating rounds, as above; each keeps its best.
  type Round = Awaited<ReturnType<typeof pipelinedWithCpu>>;
  const rounds = { now: [] as Round[], base: [] as Round[] };
  for (let round = 0; round < 3; round++) {
    rounds.now.push(await pipelinedWithCpu(bridge, total));
    if (base) rounds.base.push(await pipelinedWithCpu(base.bridge, total));
  }
  const bestRound = (r: Round[]) => r.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
  const now = bestRound(rounds.now);
  const then = base ? bestRound(rounds.base) : null;
  const pipelinedPerSecond = now.perSecond;
  const pipelinedPerSecondBase = then?.perSecond ?? null;
  const pipelinedPerSecondZeromq = await pipelined(zeromq, total);
  const pool = await Pool.start({ size: 2, perWorkerInFlight: 128 }); // as deep a pipeline per worker as the Bridge gets
  const pipelinedPerSecondPool2 = await pipelined(pool, total);
  await pool.close();
  const zeromqPool = await Pool.start({ size: 2, perWorkerInFlight: 128, link: "zeromq" });
  const pipelinedPerSecondPool2Zeromq = await pipelined(zeromqPool, total);
  await zeromqPool.close();
  const section = {
    bridge: best(parts.bridge),
    bridgeZeromq: best(parts.bridgeZeromq),
    pythonia: best(parts.pythonia),
    rawPipe: best(parts.rawPipe),
    rawPipeAfterWork5ms,
    bareZeromq: best(parts.bareZeromq),
    bridgeVsRawPipe: 0,
    bridgeVsPythonia: 0,
    bridgeZeromqVsRawPipe: 0,
    bridgeVsBareZeromq: 0,
    pipelinedPerSecond,
    baseRev: base?.rev ?? null,
    pipelinedPerSecondBase,
    pipelinedVsBase: pipelinedPerSecondBase ? round(pipelinedPerSecond / pipelinedPerSecondBase) : null,
    pipelinedCpuMicros: { node: now.nodeMicros, worker: now.workerMicros },
    pipelinedCpuMicrosBase: then ? { node: then.nodeMicros, worker: then.workerMicros } : null,
    pipelinedPerSecondZeromq,
    pipelinedPerSecondPool2,
    pipelinedPerSecondPool2Zeromq,
  };
  section.bridgeVsRawPipe = round(section.bridge.median / section.rawPipe.median);
  section.bridgeVsPythonia = round(section.bridge.median / section.pythonia.median);
  section.bridgeZeromqVsRawPipe = round(section.bridgeZeromq.median / section.rawPipe.median);
  section.bridgeVsBareZeromq = round(section.bridgeZeromq.median / section.bareZeromq.median);
  progress(`latency p50: bridge ${round(section.bridge.median)} ms (ZeroMQ link ${round(section.bridgeZeromq.median)} ms), bare zeromq ${round(section.bareZeromq.median)} ms, raw pipe ${round(section.rawPipe.median)} ms (after 5 ms of work +${round(rawPipeAfterWork5ms.median)} ms), pythonia ${round(section.pythonia.median)} ms; pipelined ${pipelinedPerSecond}/s, CPU µs/request node ${now.nodeMicros} worker ${now.workerMicros}${then ? ` (base ${base!.rev.slice(0, 12)}: ${pipelinedPerSecondBase}/s, node ${then.nodeMicros} worker ${then.workerMicros})` : ""} (ZeroMQ ${pipelinedPerSecondZeromq}/s, pool of 2 ${pipelinedPerSecondPool2}/s)`);
  return section;
}
