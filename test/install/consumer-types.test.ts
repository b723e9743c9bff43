import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DOC_PAGES, isNorun, pageBlocks } from "../docs/code-blocks.js";

// The published .d.ts files once named @tensorflow/tfjs-node's types, which a user's project does not
// have (tfjs-node lives in the env `tfbridge setup` makes): tsc failed with TS2307 unless skipLibCheck.
// This packs the package as npm would publish it and type-checks a consumer with skipLibCheck off.

const exec = promisify(execFile);
const root = new URL("../..", import.meta.url).pathname;
const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
const work = mkdtempSync(join(tmpdir(), "tfbridge-consumer-"));
/** The tarball's files, as `tar -t` lists them. */
let listed: string[] = [];
const project = join(work, "consumer");
afterAll(() => rmSync(work, { recursive: true, force: true }));

const COMPILER_OPTIONS = {
  target: "ES2022",
  // `await using` and the handles' Symbol.asyncDispose: TypeScript ≥ 5.2's ESNext.Disposable.
  lib: ["ES2022", "ESNext.Disposable"],
  module: "NodeNext",
  moduleResolution: "NodeNext",
  strict: true,
  skipLibCheck: false,
  noEmit: true,
  types: ["node"],
};

/** A user's service, as the README writes it: every entry point but tfjs-layers, the main APIs of each. */
const SERVICE = `
import { Bridge, ModelError, Pool, type PyProxy, TfbridgeError, convertModel, input, layers, loadTfjs, model, ndarray } from "tfbridge";
import { type ModelParityReport, compareArrays, formatModelParityReport, runModelParity } from "tfbridge/parity";
import type { BatchingOptions, ServedModel } from "tfbridge/serving";
import { tensorMatchers } from "tfbridge/vitest";

await using bridge = await Bridge.start();
await using handle = await bridge.loadModel("model.keras");
const x = ndarray("float32", [4, 12, 3], new Float32Array(4 * 12 * 3).fill(0.1));
const { outputs } = await handle.predict(x);
const dense: readonly number[] | undefined = outputs.dense?.shape;

const report: ModelParityReport = await runModelParity(handle);
const text: string = formatModelParityReport(report);
const close: boolean = compareArrays(x, x, { atol: 0, rtol: 0 }).pass;
const converted = await convertModel("model.keras", "web_model", { bridge });
const ok: boolean = converted.ok;

const np = await bridge.python.import("numpy");
const big = await bridge.python.toNDArray(np.arange(1e6));
const keras = await bridge.python.import("keras");
const trained = (await keras.Sequential([await keras.Input([12, 3])])) as PyProxy;
await trained.save("trained.keras");

const i = input({ shape: [8, 5], name: "x" });
const built = model({ inputs: i, outputs: layers.dense({ units: 2 }).apply(i) });
await using described = await bridge.model(built, { seed: 7 });

const batching: BatchingOptions = { maxBatchSize: 64, maxDelayMicros: 500 };
await using pool = await Pool.start({ size: 2 });
const served: ServedModel = await pool.loadModel("model.keras", { name: "m", batching });
const predicted = await pool.predict("m", x);

const tf = await loadTfjs();
const versions: string | undefined = tf.version["tfjs-core"];
try {
  await bridge.loadModel("missing.keras");
} catch (e) {
  if (e instanceof ModelError) console.log(e.details.problems);
  else if (e instanceof TfbridgeError) console.log(e.name);
}
console.log(dense, text, close, ok, big.shape, described.inputs, served, predicted.outputs, versions, tensorMatchers);
`;

/** tfjs-layers takes the caller's TF.js, so its types are TF.js's: checked where TF.js is installed. */
const LAYERS = `
import * as tf from "@tensorflow/tfjs";
import { kerasCustomClass, registerKerasLayers } from "tfbridge/tfjs-layers";

const { TfbridgeGRU } = registerKerasLayers(tf);
const layer = new TfbridgeGRU({ units: 4, resetAfter: true });
console.log(layer.name, kerasCustomClass("GRU", { reset_after: true }));
`;

async function typecheck(config: string): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await exec(process.execPath, [tsc, "-p", config], { cwd: project });
    return { code: 0, out: stdout };
  } catch (e) {
    const { code, stdout } = e as { code: number; stdout: string };
    return { code, out: stdout };
  }
}

beforeAll(async () => {
  // npm pack packs exactly the published files; without prepack, which would compile dist/ again under
  // the files that read it (the global setup compiled it).
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("npm_")));
  const { stdout } = await exec("npm", ["pack", "--ignore-scripts", "--pack-destination", work, "--silent"], { cwd: root, env });
  const tarball = join(work, stdout.trim().split("\n").pop()!);
  const modules = join(project, "node_modules");
  mkdirSync(join(modules, "tfbridge"), { recursive: true });
  await exec("tar", ["-xzf", tarball, "-C", join(modules, "tfbridge"), "--strip-components=1"]);
  listed = (await exec("tar", ["-tzf", tarball])).stdout.split("\n");
  // What npm install would put beside it (offline: this checkout's copies), plus a user's @types/node,
  // the optional peer vitest, and TF.js for tfjs-layers' consumer.
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { dependencies: Record<string, string> };
  for (const name of [...Object.keys(pkg.dependencies), "vitest", "@types/node", "@tensorflow/tfjs"]) {
    mkdirSync(join(modules, name, ".."), { recursive: true });
    symlinkSync(join(root, "node_modules", name), join(modules, name));
  }
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  writeFileSync(join(project, "service.ts"), SERVICE);
  writeFileSync(join(project, "layers.ts"), LAYERS);
  writeFileSync(join(project, "tsconfig.json"), JSON.stringify({ compilerOptions: COMPILER_OPTIONS, files: ["service.ts"] }));
  writeFileSync(join(project, "tsconfig.layers.json"), JSON.stringify({ compilerOptions: COMPILER_OPTIONS, files: ["layers.ts"] }));
  // The docs' TypeScript blocks that run (test/readme.test.ts runs them), each a file of its own.
  mkdirSync(join(project, "docs"));
  const blocks = DOC_PAGES.flatMap((page) => pageBlocks(page).filter((b) => b.lang === "ts" && !isNorun(b)).map((b) => ({ page, ...b })));
  const files = blocks.map(({ page, line, code }) => {
    const file = `docs/${page.replace(/\W+/g, "-")}-${line}.ts`;
    writeFileSync(join(project, file), code);
    return file;
  });
  writeFileSync(join(project, "tsconfig.docs.json"), JSON.stringify({ compilerOptions: COMPILER_OPTIONS, files }));
}, 120_000);

describe("the packed tarball", () => {
  it("holds what tfbridge setup runs, and not the maintainers' converter comparison", () => {
    expect(listed).toContain("package/scripts/build-tfjs-node.sh");
    expect(listed).toContain("package/scripts/tfjs-node-env/package.json");
    expect(listed).toContain("package/scripts/onnx-env/package-lock.json");
    expect(listed).toContain("package/python/requirements-onnx.txt");
    expect(listed.filter((f) => f.startsWith("package/scripts/converter-comparison/"))).toEqual([]);
  });
});

describe("the published types in a fresh project (skipLibCheck: false)", () => {
  it("tfbridge, tfbridge/parity, tfbridge/serving and tfbridge/vitest compile without TF.js installed", { timeout: 60_000 }, async () => {
    const { code, out } = await typecheck("tsconfig.json");
    expect(out).toBe("");
    expect(code).toBe(0);
  });

  it("every TypeScript block of README.md and docs/*.md type-checks as a user's file", { timeout: 60_000 }, async () => {
    const { code, out } = await typecheck("tsconfig.docs.json");
    expect(out).toBe("");
    expect(code).toBe(0);
  });

  it("tfbridge/tfjs-layers adds no error of its own beside TF.js's types", { timeout: 60_000 }, async () => {
    // TF.js 4.22's own .d.ts files do not compile with skipLibCheck off (DOM names, TS2411 in
    // tfjs-layers): those lines are TF.js's. Every line about tfbridge's files or the consumer's fails.
    const { out } = await typecheck("tsconfig.layers.json");
    const ours = out.split("\n").filter((line) => /^(layers\.ts|node_modules\/tfbridge\/)/.test(line));
    expect(ours).toEqual([]);
  });

});
