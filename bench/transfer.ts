import { type Bridge, type PyProxy, ndarray } from "../src/index.js";
import type { PythoniaPeer } from "./peers.js";
import { type Summary, progress, release, round, timeMs } from "./stats.js";

export interface TransferRow {
  bytes: number;
  /** Round trip Node → Python → Node on the default (local) link; MB/s counts the payload both ways (2 × bytes per trip). */
  binary: Summary & { MBps: number };
  /** The same over the ZeroMQ link. */
  zeromq: Summary & { MBps: number };
  pythonia?: Summary & { MBps: number };
  /** One TypedArray.set of the same bytes into a buffer already in use: the machine's copy ceiling. */
  memcpy: Summary & { MBps: number };
  /** The same copy into freshly allocated memory, as a receiver's copy would be: page faults included. */
  memcpyFresh: Summary & { MBps: number };
}

export interface TransferSection {
  rows: TransferRow[];
  /** 1M float32 from a proxied ndarray to JS: bridge.python.toNDArray vs the proxy's own .tolist().valueOf(). */
  proxy1M: { toNDArray: Summary; tolistValueOf: Summary; speedup: number };
  /** Binary path MB/s ÷ pythonia MB/s at 1M float32 (4 MB). */
  vsPythonia1M: number | null;
  /** Binary path MB/s ÷ memcpy MB/s at the largest size (default link). */
  memcpyFraction64MB: number;
  /** The same over the ZeroMQ link. */
  memcpyFraction64MBZeromq: number;
}

const MB = 1024 * 1024;
const mbps = (bytesMoved: number, s: Summary) => round(bytesMoved / MB / (s.median / 1000));

export async function transfer(bridge: Bridge, zeromq: Bridge, pythonia: PythoniaPeer, quick: boolean): Promise<TransferSection> {
  const sizes = quick ? [1024, 256 * 1024, 4 * MB, 64 * MB] : [1024, 16 * 1024, 256 * 1024, 4 * MB, 16 * MB, 64 * MB];
  const pythoniaMax = 4 * MB; // 1M float32; beyond that pythonia takes minutes
  const rows: TransferRow[] = [];
  for (const bytes of sizes) {
    const data = new Float32Array(bytes / 4).map((_, i) => i % 1000);
    const array = ndarray("float32", [data.length], data);
    // Large payloads get fewer repetitions but never so few that one noisy sample is the median.
    const reps = Math.max(quick ? 5 : 9, Math.min(quick ? 50 : 300, Math.round((256 * MB) / bytes)));
    const binary = await timeMs(async () => release(await bridge.echo([array])), reps, 2);
    const overZeromq = await timeMs(() => zeromq.echo([array]), reps, 2);
    const copyTarget = new Float32Array(data.length);
    const memcpy = await timeMs(() => copyTarget.set(data), reps * 4, 2);
    const memcpyFresh = await timeMs(() => new Float32Array(data.length).set(data), reps, 1);
    const row: TransferRow = {
      bytes,
      binary: { ...binary, MBps: mbps(2 * bytes, binary) },
      zeromq: { ...overZeromq, MBps: mbps(2 * bytes, overZeromq) },
      memcpy: { ...memcpy, MBps: mbps(bytes, memcpy) },
      memcpyFresh: { ...memcpyFresh, MBps: mbps(bytes, memcpyFresh) },
    };
    if (bytes <= pythoniaMax) {
      const s = await timeMs(() => pythonia.roundTrip(data), bytes >= MB ? 1 : quick ? 3 : 5, bytes >= MB ? 0 : 1);
      row.pythonia = { ...s, MBps: mbps(2 * bytes, s) };
    }
    rows.push(row);
    progress(`transfer ${bytes} B: binary ${row.binary.MBps} MB/s (ZeroMQ ${row.zeromq.MBps}), memcpy ${row.memcpy.MBps} MB/s (fresh ${row.memcpyFresh.MBps})${row.pythonia ? `, pythonia ${row.pythonia.MBps} MB/s` : ""}`);
  }
  const at1M = rows.find((r) => r.bytes === 4 * MB);
  const largest = rows.at(-1)!;
  const np = await bridge.python.import("numpy");
  const proxied = (await np.ones$!(MB, { dtype: "float32" })) as PyProxy;
  const toNDArray = await timeMs(async () => release([await bridge.python.toNDArray(proxied)]), quick ? 5 : 20, 1);
  const tolistValueOf = await timeMs(async () => {
    const list = (await proxied.tolist!()) as PyProxy;
    return list.valueOf!(); // pythonia's JSON path
  }, 1, 0);
  const proxy1M = { toNDArray, tolistValueOf, speedup: round(tolistValueOf.median / toNDArray.median) };
  progress(`proxies, 1M float32 to JS: toNDArray ${round(toNDArray.median)} ms, .tolist().valueOf() ${round(tolistValueOf.median)} ms`);
  return {
    rows,
    proxy1M,
    vsPythonia1M: at1M?.pythonia ? round(at1M.binary.MBps / at1M.pythonia.MBps) : null,
    memcpyFraction64MB: round(largest.binary.MBps / largest.memcpy.MBps),
    memcpyFraction64MBZeromq: round(largest.zeromq.MBps / largest.memcpy.MBps),
  };
}
