import { createRequire } from "node:module";
import { ProxyUsageError } from "../errors.js";
import { type NDArray, isNDArray } from "../wire/ndarray.js";
import type { OpCall, OpResult } from "../wire/ops.js";
import type { Reply } from "../worker/replies.js";
import { PythoniaChannel } from "./channel.js";

/**
 * A pythonia proxy to a Python object. Any attribute is another proxy; a call sends the call to Python
 * and resolves with the result: a JS primitive for str, int, float, bool and None, else a proxy.
 * `await proxy.attribute` fetches an attribute's value the same way.
 */
export interface PyProxy {
  (...args: unknown[]): Promise<PyValue>;
  readonly [attribute: string]: PyProxy;
}

/** What a proxied call resolves with. */
export type PyValue = PyProxy | string | number | boolean | null;

/** The parts of pythonia's (untyped, CommonJS) Bridge that we build on. */
interface PythoniaBridge {
  loop: NodeJS.Timeout;
  makePyObject(ffid: number): PyProxy;
  call(ffid: number, stack: unknown[], args: unknown[], kwargs?: Record<string, unknown>, set?: boolean, timeout?: number): Promise<PyValue>;
  free(ffids: number[]): Promise<boolean>;
  end(): void;
}
type PythoniaBridgeClass = new (com: PythoniaChannel) => PythoniaBridge;

const { Bridge: PythoniaBridgeBase } = createRequire(import.meta.url)("pythonia/src/pythonia/Bridge.js") as { Bridge: PythoniaBridgeClass };

type Uploader = (arrays: NDArray[]) => Promise<number[]>;

/** `value` with every NDArray inside plain arrays and objects replaced by `replace(array)`, in a fixed order. */
function mapArrays(value: unknown, replace: (array: NDArray) => unknown): unknown {
  if (isNDArray(value)) return replace(value);
  if (Array.isArray(value)) return value.map((v) => mapArrays(v, replace));
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapArrays(v, replace)]));
  }
  return value;
}

/** Where inside `value` (plain arrays and objects) a Promise sits, as a path like `[0].x`; null if none. */
function findPromise(value: unknown, path = ""): string | null {
  if (value instanceof Promise) return path;
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const found = findPromise(v, `${path}[${i}]`);
      if (found !== null) return found;
    }
  } else if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [k, v] of Object.entries(value)) {
      const found = findPromise(v, `${path}.${k}`);
      if (found !== null) return found;
    }
  }
  return null;
}

/**
 * An un-awaited proxied call among the arguments. pythonia would send it as a JS object reference,
 * Python would start the call with it, and pythonia's reply handler would then throw inside our
 * channel's receive loop: the call rejected with a plain Error and the channel was left broken.
 * Found here, the call is refused before anything is sent.
 */
function checkNoPromises(stack: unknown[], args: unknown[], kwargs: Record<string, unknown> | undefined): void {
  const name = stack.join(".") || "the call";
  for (const [i, arg] of args.entries()) {
    const path = findPromise(arg);
    if (path !== null) throw new ProxyUsageError(`argument ${i + 1}${path} of ${name} is a Promise: await it first (an un-awaited proxied call?)`);
  }
  for (const [key, arg] of Object.entries(kwargs ?? {})) {
    const path = findPromise(arg);
    if (path !== null) throw new ProxyUsageError(`argument ${key}${path} of ${name} is a Promise: await it first (an un-awaited proxied call?)`);
  }
}

/**
 * pythonia's Bridge, unchanged for everything but arguments: NDArrays among them go to Python over the
 * binary data plane first and are passed by reference (`{ffid}`), never as JSON.
 */
class ArrayAwareBridge extends PythoniaBridgeBase {
  constructor(
    com: PythoniaChannel,
    private readonly upload: Uploader,
  ) {
    super(com);
    this.loop.unref(); // pythonia's once-a-second GC batching must not keep Node alive
  }

  override async call(ffid: number, stack: unknown[], args: unknown[], kwargs?: Record<string, unknown>, set?: boolean, timeout?: number) {
    checkNoPromises(stack, args, kwargs);
    const arrays: NDArray[] = [];
    mapArrays([args, kwargs], (a) => arrays.push(a));
    if (arrays.length === 0) return super.call(ffid, stack, args, kwargs, set, timeout);
    const ffids = await this.upload(arrays);
    let next = 0;
    const [byRef, kwargsByRef] = mapArrays([args, kwargs], () => ({ ffid: ffids[next++] })) as [unknown[], Record<string, unknown> | undefined];
    try {
      return await super.call(ffid, stack, byRef, kwargsByRef, set, timeout);
    } finally {
      void this.free(ffids);
    }
  }
}

interface Connected {
  channel: PythoniaChannel;
  bridge: PythoniaBridge;
  root: PyProxy;
}

/** What the proxies need of the worker that serves them. */
export interface ProxyWorker {
  request<K extends "py.start" | "py.put" | "py.get">(op: K, ...request: OpCall<K, never>): Promise<Reply<OpResult<K>>>;
  /** Where the worker binds pythonia's channel once asked to (op py.start). */
  readonly proxyEndpoint: string;
  /** Resolves with why, once the worker is gone. */
  readonly died: Promise<Error>;
}

/**
 * Python objects from TypeScript, through pythonia proxies served by the same worker process as the
 * binary data plane: one interpreter, so objects made by either channel are usable by the other.
 * The proxy channel starts on first use.
 */
export class PythonProxies {
  private connected: Promise<Connected> | null = null;
  private closedWith: Error | null = null;

  constructor(private readonly worker: ProxyWorker) {}

  private connect(): Promise<Connected> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    this.connected ??= (async () => {
      await this.worker.request("py.start");
      const channel = new PythoniaChannel(this.worker.proxyEndpoint);
      void this.worker.died.then((error) => channel.fail(error));
      if (this.closedWith) channel.close(this.closedWith);
      const upload: Uploader = async (arrays) => (await this.worker.request("py.put", {}, arrays)).result.ffids;
      const bridge = new ArrayAwareBridge(channel, upload);
      return { channel, bridge, root: bridge.makePyObject(0) };
    })();
    return this.connected;
  }

  /** `importlib.import_module(name)` in the worker, as a proxy. */
  async import(name: string): Promise<PyProxy> {
    const { root } = await this.connect();
    return (await root.python!(name)) as PyProxy;
  }

  /** Python's builtins as pythonia offers them (`eval`, `exec`, `tuple`, `repr`, …). */
  async builtins(): Promise<PyProxy> {
    return (await this.connect()).root;
  }

  /**
   * A proxied object (an ndarray, a tf.Tensor, anything `np.asarray` takes) as an NDArray, over the
   * binary data plane: no JSON, no per-element copy.
   */
  async toNDArray(value: PyValue | Promise<PyValue>): Promise<NDArray> {
    const proxy = await value;
    const ffid = typeof proxy === "function" ? (proxy as unknown as { ffid: unknown }).ffid : undefined;
    if (typeof ffid !== "number") throw new ProxyUsageError(`toNDArray needs a proxy to a Python object, got ${typeof proxy}`);
    const reply = await this.worker.request("py.get", { ffid });
    return reply.arrays[0]!;
  }

  /** Rejects proxied calls in flight with `error` and closes the channel, if it was started. */
  async close(error: Error): Promise<void> {
    this.closedWith = error;
    const connected = await this.connected?.catch(() => null);
    connected?.bridge.end();
    connected?.channel.close(error);
  }
}
