import { describe, expect, it } from "vitest";
import { loadTfjs, tfjsInfo, withBackend } from "../../src/tfjs/runtime.js";
import { sharedBridge } from "../helpers.js";

const bridge = sharedBridge();

describe("tfjs-node, built offline against the venv's TensorFlow", () => {
  it("runs on the native tensorflow backend, not a silent fallback", async () => {
    const tf = await loadTfjs();
    expect(tf.getBackend()).toBe("tensorflow");
    const info = await tfjsInfo();
    expect(info.backend).toBe("tensorflow");
    expect(info.backends).toEqual(expect.arrayContaining(["tensorflow", "cpu"]));
  });

  it("loaded the same TensorFlow version as the Python worker", async () => {
    expect((await tfjsInfo()).tensorflow).toBe(bridge().info.tensorflow);
  });

  it("offers the pure-JS CPU backend as a second runtime and restores the native one after", async () => {
    const tf = await loadTfjs();
    const seen = await withBackend(tf, "cpu", async () => tf.getBackend());
    expect(seen).toBe("cpu");
    expect(tf.getBackend()).toBe("tensorflow");
  });
});
