import { execFile, execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConvertError, ModelError, TfjsUnsupportedModelError, convertModel } from "../../src/index.js";
import { compareArrays, loadTfjsModel } from "../../src/entry/parity.js";
import { tfbridge } from "../cli/run.js";
import { sharedBridge } from "../helpers.js";

const dir = mkdtempSync(join(tmpdir(), "tfbridge-convert-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const bridge = sharedBridge();

/** Runs a Keras script that saves files into `dir` (Keras and NumPy write them, not us). */
function keras(script: string): void {
  const prelude = `import os\nos.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"\nimport keras, numpy as np\nL = keras.layers\nkeras.utils.set_random_seed(3)\nos.chdir(${JSON.stringify(dir)})\n`;
  execFileSync(".venv/bin/python", ["-c", prelude + script], { stdio: ["ignore", "ignore", "pipe"] });
}

// Two branches: ids → Embedding(mask_zero) → Bidirectional(GRU), feats → LSTM (unmasked), merged.
// TF.js 4.22's executor walks a merge's inputs last to first, so it runs the masked branch before the
// LSTM and then hands the LSTM the Embedding's stale mask.
keras(`ids = keras.Input((6,), dtype="int32", name="ids")
feats = keras.Input((6, 3), name="feats")
x = L.Bidirectional(L.GRU(5))(L.Embedding(20, 4, mask_zero=True)(ids))
y = L.LSTM(5, name="unmasked_lstm")(feats)
keras.Model([ids, feats], L.Dense(2, activation="softmax")(L.Concatenate()([y, x]))).save("branches.keras")
np.savez("branches.npz", ids=np.array([[3, 4, 5, 0, 0, 0], [1, 2, 3, 4, 5, 6]], dtype="int32"), feats=np.linspace(-1, 1, 36, dtype="float32").reshape(2, 6, 3))
np.savez("wrong-names.npz", tokens=np.zeros((2, 6), dtype="int32"))
np.savez("wrong-shape.npz", ids=np.zeros((2, 7), dtype="int32"), feats=np.zeros((2, 6, 3), dtype="float32"))
a = keras.Input((4, 3), name="a")
m = L.Masking(0.0)(a)
keras.Model(a, L.Maximum()([L.Dense(3)(a), L.Dense(3)(m)])).save("masked-second.keras")
`);

describe("convertModel", () => {
  it("writes a model that stock tf.loadLayersModel + predict run as Keras does, even across a masked and an unmasked branch", async () => {
    const out = join(dir, "branches");
    const result = await convertModel(join(dir, "branches.keras"), out, { bridge: bridge(), inputs: join(dir, "branches.npz"), savedModel: true });
    expect(result.ok).toBe(true);
    // --saved-model: Keras's export, run by tfjs-node's TensorFlow C library, two named inputs (int32 and float32).
    expect(result.savedModel).toMatchObject({ dir: "saved_model", pass: true });
    expect(existsSync(join(out, "saved_model", "saved_model.pb"))).toBe(true);
    expect(result.report.modelOutputs[0]!.stockPredict!.maxUlp).toBe(0);
    expect(readdirSync(out).sort()).toEqual(["group1-shard1of1.bin", "model.json", "parity.html", "parity.json", "saved_model"]);
    expect(result.customLayers).toEqual(["TfbridgeConcatenate", "TfbridgeGRU", "TfbridgeLSTM"]);
    const json = JSON.parse(readFileSync(join(out, "model.json"), "utf8"));
    expect(json.format).toBe("layers-model");
    expect(json.weightsManifest[0].weights.length).toBeGreaterThan(0);

    // Regression: without the ignore_mask marks, TF.js's own predict computes the unmasked LSTM under
    // the other branch's mask, and the output is no longer the Session's.
    const lstm = json.modelTopology.config.layers.find((l: { name: string }) => l.name === "unmasked_lstm");
    expect(lstm.config.ignore_mask).toBe(true);
    const bare = join(dir, "branches-unmarked");
    cpSync(out, bare, { recursive: true });
    writeFileSync(join(bare, "model.json"), readFileSync(join(out, "model.json"), "utf8").replaceAll(`"ignore_mask":true`, `"ignore_mask":false`));
    const inputs = await bridge().loadNpz(join(dir, "branches.npz"));
    const twin = await loadTfjsModel(join(bare, "model.json"));
    try {
      const [stock] = await twin.predictStock([inputs.ids!, inputs.feats!]);
      const [walked] = await twin.predict([inputs.ids!, inputs.feats!]);
      expect(compareArrays(stock!, walked!, { atol: 0, rtol: 0 }).maxAbsError).toBeGreaterThan(1e-4);
    } finally {
      await twin.dispose();
    }
  });

  it("refuses a Maximum that needs its second input's mask, which TF.js's predict never passes; writes nothing", async () => {
    const out = join(dir, "masked-second");
    const error = await convertModel(join(dir, "masked-second.keras"), out, { bridge: bridge() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TfjsUnsupportedModelError);
    expect((error as TfjsUnsupportedModelError).reasons.map((r) => r.layer)).toEqual(["maximum"]);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes(".tfbridge-"))).toEqual([]);
  });

  it("inputs whose names or shapes do not match are ModelErrors naming the file and the input", async () => {
    const model = join(dir, "branches.keras");
    const names = await convertModel(model, join(dir, "o1"), { bridge: bridge(), inputs: join(dir, "wrong-names.npz") }).catch((e: unknown) => e);
    expect(names).toBeInstanceOf(ModelError);
    expect((names as Error).message).toMatch(/wrong-names\.npz holds tokens; the model's inputs are ids, feats/);
    const shape = await convertModel(model, join(dir, "o2"), { bridge: bridge(), inputs: join(dir, "wrong-shape.npz") }).catch((e: unknown) => e);
    expect(shape).toBeInstanceOf(ModelError);
    expect((shape as ModelError).details).toMatchObject({ input: "ids", file: join(dir, "wrong-shape.npz") });
    expect(existsSync(join(dir, "o1")) || existsSync(join(dir, "o2"))).toBe(false);
  });

  it("a weights file that does not match its config is a ModelError from Keras, and a SavedModel folder a ConvertError", async () => {
    // The same .keras with the LSTM's units changed in config.json: the stored weights no longer fit.
    keras(`import zipfile, json
with zipfile.ZipFile("branches.keras") as z, zipfile.ZipFile("mismatch.keras", "w") as out:
    for item in z.infolist():
        data = z.read(item.filename)
        if item.filename == "config.json":
            config = json.loads(data)
            for layer in config["config"]["layers"]:
                if layer["config"]["name"] == "unmasked_lstm":
                    layer["config"]["units"] = 7
            data = json.dumps(config)
        out.writestr(item, data)
os.mkdir("saved")
`);
    const mismatch = await convertModel(join(dir, "mismatch.keras"), join(dir, "o3"), { bridge: bridge() }).catch((e: unknown) => e);
    expect(mismatch).toBeInstanceOf(ModelError);
    expect((mismatch as ModelError).details.file).toBe(join(dir, "mismatch.keras"));
    await expect(convertModel(join(dir, "saved"), join(dir, "o4"), { bridge: bridge() })).rejects.toThrow(ConvertError);
    // model.save and model.export never write over anything.
    await using handle = await bridge().loadModel(join(dir, "branches.keras"));
    await expect(handle.save(join(dir, "branches.keras"))).rejects.toThrow(/already exists; model.save does not overwrite/);
    await expect(handle.exportSavedModel(join(dir, "saved"))).rejects.toThrow(ModelError);
    expect(existsSync(join(dir, "o3")) || existsSync(join(dir, "o4"))).toBe(false);
  });
});

describe("tfbridge convert (CLI)", () => {
  it("--json prints the documented fields and exits 0; a second run into the same OUTDIR needs --force", async () => {
    const out = join(dir, "cli-out");
    const first = await tfbridge("convert", join(dir, "branches.keras"), out, "--json");
    expect(first.code).toBe(0);
    const printed = JSON.parse(first.stdout);
    expect(Object.keys(printed).sort()).toEqual(["customLayers", "layers", "ok", "out", "parity"]);
    expect(printed).toMatchObject({ ok: true, out, layers: 5, parity: { tfjsNodeWorstUlp: expect.any(Number) } });
    expect(Object.keys(printed.parity).sort()).toEqual(["cpuWorstAbsError", "firstDivergentLayer", "tfjsNodeWorstUlp", "verdicts"]);
    expect(printed.parity.verdicts.fail).toBe(0);

    // Stock TF.js without tfbridge's classes: its own "Unknown layer" error, naming our class.
    const loader = `const tf = require("@tensorflow/tfjs-node"); tf.loadLayersModel("file://${out}/model.json").then(() => process.exit(0), (e) => { console.error(e.message); process.exit(3); });`;
    const unregistered = await new Promise<{ code: number | null; stderr: string }>((done) => {
      const child = execFile(process.execPath, ["-e", loader], { env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: "3" } }, (error, _stdout, stderr) => done({ code: error ? (error as { code?: number }).code ?? 1 : 0, stderr }));
      child.stdin?.end();
    });
    expect(unregistered.code).toBe(3);
    expect(unregistered.stderr).toMatch(/Unknown layer: Tfbridge/);

    const again = await tfbridge("convert", join(dir, "branches.keras"), out);
    expect(again.code).toBe(2);
    expect(again.stderr).toBe(`tfbridge convert: ConvertError: ${out} exists and is not empty (--force replaces it)\n`);
  });

  it("bad inputs: one line each, exit 2, nothing written", async () => {
    writeFileSync(join(dir, "corrupt.keras"), "PK\u0003\u0004 not really a zip");
    writeFileSync(join(dir, "a-file"), "");
    const cases: [string[], RegExp][] = [
      [[join(dir, "corrupt.keras"), join(dir, "o5")], /^tfbridge convert: ModelError: .*corrupt\.keras.*\n$/],
      [[join(dir, "missing.keras"), join(dir, "o6")], /^tfbridge convert: ConvertError: .*missing\.keras: no such file\n$/],
      [[join(dir, "branches.keras"), join(dir, "a-file", "out")], /^tfbridge convert: ConvertError: cannot write beside .*a-file\/out: ENOTDIR\n$/],
      // Checked before any worker starts, as parity --model checks its files.
      [[join(dir, "branches.keras"), join(dir, "o7"), "--inputs", join(dir, "missing.npz")], /^tfbridge convert: ConvertError: --inputs .*missing\.npz: no such file\n$/],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = await tfbridge("convert", ...args);
      expect(code, stderr).toBe(2);
      expect(stderr).toMatch(message);
    }
    expect(existsSync(join(dir, "o5")) || existsSync(join(dir, "o6")) || existsSync(join(dir, "o7"))).toBe(false);
    expect((await tfbridge("convert", "only-one")).stderr).toMatch(/OUTDIR is required/);
  });
});
