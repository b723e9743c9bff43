/**
 * Quick A/B of the local link's tiny round trip (not part of `make bench`):
 *
 *     npx tsx bench/profile-echo.ts [--base DIR]... [--pythonia] [--rounds N] [--reps N] [--lstm]
 *
 * Interleaves, round by round: the raw pipe (bench/peers.ts), a minimal Node ↔ Python socket-pair echo
 * with the local link's framing (the transport's floor), the same with the least JSON work a request
 * needs on both sides (the floor of a JSON-header design), this tree's Bridge and, with --base, the
 * Bridge of each other copy of tfbridge (e.g. `git archive HEAD~3 | tar -x -C /tmp/base`, with
 * node_modules, .venv and native/build linked in); with --pythonia, a pythonia call. Prints each
 * one's p50 per round, the median of the rounds' p50s, its ratio to the raw pipe of the same round,
 * and CPU per call of Node and of the peer process (from /proc: includes every thread).
 *
 * --lstm adds, per Bridge and round: the fixed cost around a Session run at the scaling table's
 * smallest size (end to end − in-worker, medians, as bench/lstm.ts's fixedCostMs), the overhead at
 * [32, 100, 16] (bench/lstm.ts's bridgeOverheadPct), and the raw pipe's price after 5 ms of work.
 * Never put `await using` in a loop here (tsx's esbuild miscompiles it).
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import type { Socket } from "node:net";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { Bridge } from "../src/index.js";
import { seededInput } from "../src/random.js";
import { defaultPython } from "../src/worker/process.js";
import { startPythonia, startRawPipe } from "./peers.js";
import { release, round, timeMs } from "./stats.js";

const argv = process.argv.slice(2);
const option = (name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const rounds = Number(option("--rounds") ?? 5);
const reps = Number(option("--reps") ?? 1000);
/** Every `--base DIR`: other copies of tfbridge to compare with, in the same rounds. */
const bases = argv.flatMap((a, i) => (a === "--base" && argv[i + 1] ? [argv[i + 1]!] : []));

/**
 * The local link's framing and a header like the bridge's, echoed by a bare Python over a socket pair.
 * With `json`, both sides also do the least JSON work a request needs: Node stringifies the header
 * and parses the reply's, Python parses the header and stringifies a reply header.
 */
async function startFramedEcho(json = false): Promise<{ ping(): Promise<void>; close(): void; pid: number }> {
  const answer = json
    ? [
        "        h = json.loads(str(view[26 : 4 + length], 'utf-8'))",
        "        out = json.dumps({'v': 1, 'id': h['id'], 'ok': True, 'result': {}, 'arrays': []}, separators=(',', ':')).encode()",
        "        s.sendall(struct.pack('<IBIBQQ', 22 + len(out), 0, 1, 0, 0, len(out)) + out)",
      ]
    : ["        s.sendall(view[: 4 + length])"];
  const script = [
    "import json, socket, struct",
    "s = socket.socket(fileno=3)",
    "buf = bytearray(1 << 16); view = memoryview(buf); have = 0",
    "while True:",
    "    n = s.recv_into(view[have:])",
    "    if not n: break",
    "    have += n",
    "    while have >= 4:",
    "        (length,) = struct.unpack_from('<I', buf)",
    "        if have < 4 + length: break",
    ...answer,
    "        buf[: have - 4 - length] = buf[4 + length : have]; have -= 4 + length",
  ].join("\n");
  const child = spawn(defaultPython(), ["-c", script], { stdio: ["ignore", "ignore", "inherit", "pipe"] });
  const socket = child.stdio[3] as Socket;
  const fixed = Buffer.from('{"v":1,"id":1,"op":"echo","args":{},"deadlineMs":300000,"arrays":[]}');
  const framed = (header: Buffer) => {
    const head = Buffer.alloc(9 + 17);
    head.writeUInt32LE(head.length - 4 + header.length, 0);
    head.writeUInt32LE(1, 5);
    head.writeUInt32LE(header.length, 14);
    return Buffer.concat([head, header]);
  };
  let waiting: (() => void) | null = null;
  let id = 0;
  socket.on("data", (chunk: Buffer) => {
    if (json) JSON.parse(chunk.toString("utf8", 26));
    waiting?.();
  });
  return {
    ping: () =>
      new Promise<void>((done) => {
        waiting = done;
        const header = json ? Buffer.from(JSON.stringify({ v: 1, id: ++id, op: "echo", args: {}, deadlineMs: 300000, arrays: [] })) : fixed;
        socket.write(framed(header));
      }),
    close: () => child.kill(),
    pid: child.pid!,
  };
}


/** CPU seconds (user + system) a process has used so far. */
function cpuOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

type Timed = { name: string; fn: () => Promise<unknown>; samples: number[]; pid?: number };
const pipe = await startRawPipe();
const framed = await startFramedEcho();
const framedJson = await startFramedEcho(true);
const bridge = await Bridge.start();
const subjects: Timed[] = [
  { name: "raw pipe", fn: () => pipe.ping(), samples: [] },
  { name: "framed socketpair echo", fn: () => framed.ping(), samples: [], pid: framed.pid },
  { name: "framed echo + JSON both sides", fn: () => framedJson.ping(), samples: [], pid: framedJson.pid },
  { name: "bridge (this tree)", fn: () => bridge.call("echo"), samples: [], pid: bridge.pid },
];
const baseBridges: [string, Bridge][] = [];
for (const base of bases) {
  const mod = (await import(pathToFileURL(resolve(base, "src/index.ts")).href)) as { Bridge: typeof Bridge };
  const other = await mod.Bridge.start();
  baseBridges.push([base, other]);
  subjects.push({ name: `bridge (${base})`, fn: () => other.call("echo"), samples: [], pid: other.pid });
}
let pythonia: Awaited<ReturnType<typeof startPythonia>> | null = null;
if (argv.includes("--pythonia")) {
  pythonia = await startPythonia();
  subjects.push({ name: "pythonia call", fn: () => pythonia!.tinyCall(), samples: [] });
}

const perRound: number[][] = subjects.map(() => []);
/** CPU µs per call: Node's, and the peer's where its pid is known. */
const cpu = subjects.map(() => ({ node: 0, peer: 0, calls: 0 }));
for (let r = 0; r < rounds; r++) {
  for (const [i, s] of subjects.entries()) {
    const n = s.name.startsWith("pythonia") ? reps / 4 : reps;
    const node0 = process.cpuUsage();
    const peer0 = s.pid ? cpuOf(s.pid) : 0;
    const summary = await timeMs(s.fn, n, 50);
    const node = process.cpuUsage(node0);
    cpu[i]!.node += (node.user + node.system) / (n + 50);
    cpu[i]!.peer += s.pid ? ((cpuOf(s.pid) - peer0) * 1e6) / (n + 50) : 0;
    cpu[i]!.calls++;
    perRound[i]!.push(summary.median * 1000);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pipeRounds = perRound[0]!;
for (const [i, s] of subjects.entries()) {
  const ratios = perRound[i]!.map((us, r) => us / pipeRounds[r]!);
  const c = cpu[i]!;
  console.log(`${s.name.padEnd(40)} p50 µs by round ${perRound[i]!.map((x) => round(x)).join(" ")}  median ${round(median(perRound[i]!))}  ÷ pipe ${round(median(ratios))}  cpu µs/call node ${round(c.node / c.calls)} peer ${s.pid ? round(c.peer / c.calls) : "?"}`);
}

if (argv.includes("--lstm")) {
  // The fixed cost around a Session run at the scaling table's smallest size, and the raw pipe after 5 ms of work.
  const spec = { units: 64, inputShape: [100, 16], returnSequences: true } as const;
  const x = seededInput([5, 100, 16], 4);
  const x32 = seededInput([32, 100, 16], 3); // bench/lstm.ts's headline size: overhead over the in-worker Session
  const runners: [string, Bridge][] = [["this tree", bridge], ...baseBridges];
  for (const [, b] of runners) {
    await b.runLstm(spec, x);
    await b.runLstm(spec, x32);
  }
  const overhead: number[][] = runners.map(() => []);
  const fixed: number[][] = runners.map(() => []);
  const workerCpu: number[][] = runners.map(() => []);
  const afterWork: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const [i, [, b]] of runners.entries()) {
      const inWorker: number[] = [];
      const cpu0 = cpuOf(b.pid!);
      const total = await timeMs(async () => {
        const out = await b.runLstm(spec, x);
        inWorker.push(out.runMs);
        release([out.output]);
      }, 40, 2);
      fixed[i]!.push(total.median - median(inWorker.slice(-40)));
      workerCpu[i]!.push(((cpuOf(b.pid!) - cpu0) * 1000) / 42);
      const inWorker32: number[] = [];
      const total32 = await timeMs(async () => {
        const out = await b.runLstm(spec, x32);
        inWorker32.push(out.runMs);
        release([out.output]);
      }, 15, 2);
      const session = median(inWorker32.slice(-15));
      overhead[i]!.push(((total32.median - session) / session) * 100);
    }
    afterWork.push((await timeMs(() => pipe.ping(5), 20, 2)).median - 5);
  }
  for (const [i, [name]] of runners.entries()) {
    console.log(`lstm fixed cost, ${name.padEnd(28)} ms by round ${fixed[i]!.map((x) => round(x)).join(" ")}  median ${round(median(fixed[i]!))}  worker cpu ms/call ${round(median(workerCpu[i]!))}`);
    console.log(`lstm [32,100,16] overhead %, ${name.padEnd(15)} by round ${overhead[i]!.map((x) => round(x)).join(" ")}  median ${round(median(overhead[i]!))}`);
  }
  console.log(`raw pipe after 5 ms of work, extra ms     ${afterWork.map((x) => round(x)).join(" ")}  median ${round(median(afterWork))}`);
}

pipe.close();
framed.close();
framedJson.close();
pythonia?.exit();
await bridge.close();
for (const [, other] of baseBridges) await other.close();
