import type { AddressInfo } from "node:net";
import { Pool } from "../pool/pool.js";
import type { ServeConfig } from "./config.js";
import { createService } from "./service.js";

/** A running `tfbridge serve`: where it listens, and its drain. */
export interface Serving {
  url: string;
  /** Stops taking work, answers what is in flight, closes the pool. */
  drain(): Promise<void>;
}

/**
 * Starts the pool and the HTTP service of `config`: it listens first (liveness answers while models
 * load), then loads each model; readiness turns 200 once all are warm. `log` hears one line per step.
 * @throws {ModelLoadError} when a model does not load (the pool is closed again).
 */
export async function startServing(config: ServeConfig, log: (line: string) => void = () => {}): Promise<Serving> {
  const pool = await Pool.start(config.pool ?? {});
  const { server, drain } = createService(pool, { ...config.service, models: config.models.map((m) => m.name) });
  const host = config.host ?? "127.0.0.1";
  await new Promise<void>((resolve) => server.listen(config.port ?? 8501, host, resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  log(`listening on ${url}`);
  try {
    for (const m of config.models) {
      const source = m.path ?? { config: m.config!, seed: m.seed ?? 0 };
      await pool.loadModel(source, { name: m.name, version: m.version, batching: m.batching });
      log(`model ${m.name} ready`);
    }
  } catch (error) {
    await drain();
    throw error;
  }
  return { url, drain };
}
