import { expect } from "vitest";
import type { Bridge } from "../../src/index.js";
import type { KerasModelConfig } from "../../src/models/config.js";
import { OnednnOffWorker, buildTfjsModel, compareArrays, seededModelInputs } from "../../src/entry/parity.js";
import { localOnednn } from "../../src/parity/environment.js";

/**
 * Every layer's output of `config` (seeded weights, `rows` seeded rows) in a oneDNN-off worker and a
 * oneDNN-off tfjs-node: bit for bit, on any CPU, where the twin computes what TensorFlow computes.
 */
export async function expectBitForBitWithOnednnOff(bridge: Bridge, config: KerasModelConfig, { seed, rows }: { seed: number; rows: number }): Promise<void> {
  await using control = new OnednnOffWorker();
  expect((await control.info()).onednn).toEqual({ enabled: false, env: "0" });
  await using probe = await bridge.model(config, { seed });
  const weights = await probe.weights();
  const inputs = seededModelInputs(probe.config, probe.inputs, rows, 0);
  const run = await control.run(probe.config, weights, inputs, { layers: probe.layers });
  // Where this tfjs-node runs oneDNN (x86 Linux unless told otherwise), the control ran a tfjs-node of its own with it off.
  if (localOnednn().enabled) expect(run.tfjsLayers).toHaveLength(probe.layers.length);
  const tfjs = run.tfjsLayers ?? (await (await buildTfjsModel(probe.config, weights)).predict(inputs, probe.layers));
  probe.layers.forEach((l, i) => expect(compareArrays(tfjs[i]!, run.layers.outputs[l.name]!, { atol: 0, rtol: 0 }).maxUlp, l.name).toBe(0));
}
