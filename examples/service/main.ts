/**
 * `node --import tsx examples/service/main.ts [config.json]`: TensorFlow Serving's REST predict API
 * over a tfbridge Pool. Config (see config.json): `port` (0: any free port), `pool` (PoolOptions), and
 * `models`, each `name` plus one of `path` (a .keras/.h5 file or SavedModel folder), `config` (a Keras
 * model description, with `seed`) or `lstm` (`{ units, inputShape }`: a one-layer LSTM model), and optionally
 * `version` and `batching`. Prints `listening on http://127.0.0.1:PORT` when ready; SIGTERM drains.
 */
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { type KerasModelConfig, Pool, type PoolOptions, layers, sequential } from "../../src/index.js";
import { type BatchingOptions } from "../../src/entry/serving.js";
import { createService } from "./server.js";

interface ModelEntry {
  name: string;
  version?: number;
  path?: string;
  config?: KerasModelConfig;
  seed?: number;
  lstm?: { units: number; inputShape: [number, number] };
  batching?: BatchingOptions;
}
interface Config {
  port?: number;
  host?: string;
  pool?: PoolOptions;
  models: ModelEntry[];
}

const file = process.argv[2] ?? new URL("./config.json", import.meta.url).pathname;
const config = JSON.parse(readFileSync(file, "utf8")) as Config;

/** `{ units, inputShape }` as a one-layer Keras LSTM model, served like any other model. */
function lstmModel({ units, inputShape }: { units: number; inputShape: [number, number] }): KerasModelConfig {
  return sequential({ name: "lstm", inputShape, layers: [layers.lstm({ units })] });
}

const pool = await Pool.start(config.pool ?? {});
const { server, drain } = createService(pool, { models: config.models.map((m) => m.name) });
let stopping = false;
process.on("SIGTERM", () => {
  if (stopping) return;
  stopping = true;
  drain().then(
    () => process.exit(0),
    (e: Error) => {
      process.stderr.write(`drain failed: ${e.message}\n`);
      process.exit(1);
    },
  );
});
// Listen first (liveness answers while models load); readiness turns 200 once every model is warm.
server.listen(config.port ?? 8501, config.host ?? "127.0.0.1", () => {
  process.stdout.write(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
for (const m of config.models) {
  const source = m.path ?? { config: m.config ?? lstmModel(m.lstm!), seed: m.seed ?? 0 };
  await pool.loadModel(source, { name: m.name, version: m.version, batching: m.batching });
  process.stdout.write(`model ${m.name} ready\n`);
}
