import { join } from "node:path";
import { type CurveServerKeys, curveServer } from "../link/curve.js";
import { checkListenEndpoints } from "../link/endpoints.js";
import { type StrangerHandler, ZeroMqRouter } from "../link/zeromq-router.js";
import { privateDir, removePrivateDir } from "../worker/private-dir.js";

/** What an engine needs of ZeroMQ, if anything. */
export interface ZeroMqEndpointOptions {
  /** The engine's own workers connect over ZeroMQ: bind an IPC endpoint for them in a private folder. */
  localWorkers: boolean;
  /** Endpoints remote workers connect to. Non-loopback TCP needs `curve`. */
  listen?: readonly string[];
  curve?: CurveServerKeys;
  maxMessageBytes: number;
}

/**
 * The ZeroMQ side of an engine's set-up: its ROUTER, the private folder of the IPC endpoint its own
 * workers connect to, CurveZMQ and its ZAP rules, binding, and taking all of it down again.
 */
export class ZeroMqEndpoints {
  readonly router: ZeroMqRouter;
  /** Where the engine's own ZeroMQ workers connect; null when they use the local link. */
  readonly localEndpoint: string | null;
  /** The key pair the engine's own workers present under CURVE, with the router's public key. */
  readonly localCurveKeys: { publicKey: string; secretKey: string; serverKey: string } | null;
  private readonly dir: string | null;
  private readonly allowCurve: (() => Promise<() => void>) | null;
  private disallow: (() => void) | null = null;

  private constructor(private readonly options: ZeroMqEndpointOptions) {
    this.router = new ZeroMqRouter(options.maxMessageBytes);
    this.dir = options.localWorkers ? privateDir("pool") : null;
    this.localEndpoint = this.dir ? `ipc://${join(this.dir, "pool.sock")}` : null;
    const curve = options.curve ? curveServer(this.router.socket, options.curve) : null;
    this.allowCurve = curve?.allow ?? null;
    this.localCurveKeys = curve && options.curve ? { ...curve.localKeys, serverKey: options.curve.publicKey } : null;
  }

  /**
   * The endpoints `options` ask for, or null when nothing needs ZeroMQ.
   * @throws {InsecureConfigError} for a listen endpoint off loopback without CURVE, or of an unknown transport.
   */
  static async prepare(options: ZeroMqEndpointOptions): Promise<ZeroMqEndpoints | null> {
    await checkListenEndpoints(options.listen ?? [], options.curve);
    return options.localWorkers || (options.listen?.length ?? 0) > 0 ? new ZeroMqEndpoints(options) : null;
  }

  /** Registers the ZAP rules, binds every endpoint and starts reading. */
  async open(stranger: StrangerHandler, failed: (error: Error) => void): Promise<void> {
    if (this.allowCurve) this.disallow = await this.allowCurve();
    for (const endpoint of [...(this.localEndpoint ? [this.localEndpoint] : []), ...(this.options.listen ?? [])]) await this.router.bind(endpoint);
    this.router.start(stranger, failed);
  }

  close(): void {
    this.router.close();
    this.disallow?.();
    if (this.dir) removePrivateDir(this.dir);
  }
}
