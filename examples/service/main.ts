/**
 * `node --import tsx examples/service/main.ts [config.json]`: `tfbridge serve` from code, with a model
 * described in code beside the config's. The config is serve's (see `tfbridge serve --help`); a model
 * entry may also be `lstm: { units, inputShape }`, the seed's LSTM as a one-layer model, which this
 * example turns into a Keras config. SIGTERM drains.
 */
import { dirname, resolve } from "node:path";
import { readFileSync } from "node:fs";
import { lstmModel } from "../../src/index.js";
import { checkServeConfig } from "../../src/http/config.js";
import { startServing } from "../../src/http/serve.js";

const file = process.argv[2] ?? new URL("./config.json", import.meta.url).pathname;
const raw = JSON.parse(readFileSync(file, "utf8")) as { models: { lstm?: { units: number; inputShape: [number, number] }; seed?: number }[] };
for (const m of raw.models) {
  if (!m.lstm) continue;
  Object.assign(m, { config: lstmModel({ ...m.lstm, seed: m.seed ?? 0 }).config });
  delete m.lstm;
}
const serving = await startServing(checkServeConfig(raw, dirname(resolve(file)), file), (line) => process.stdout.write(`${line}\n`));
process.once("SIGTERM", () => {
  serving.drain().then(
    () => process.exit(0),
    (e: Error) => {
      process.stderr.write(`drain failed: ${e.message}\n`);
      process.exit(1);
    },
  );
});
