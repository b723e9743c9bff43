import { execFile, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const exec = promisify(execFile);
const root = new URL("../..", import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), "tfbridge-install-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/**
 * A user's environment: no TFBRIDGE_PYTHON, none of the npm_* variables of the npm that runs vitest,
 * and tfbridge's cache in a fresh folder, so that setup really provisions. The wheelhouse stays the
 * user's default one (~/.cache/tfbridge/wheels): TensorFlow is downloaded once per machine, not per run.
 */
const env: NodeJS.ProcessEnv = {
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("npm_") && k !== "TFBRIDGE_PYTHON")),
  TFBRIDGE_CACHE_DIR: join(work, "cache"),
  TFBRIDGE_WHEELHOUSE: process.env.TFBRIDGE_WHEELHOUSE || join(homedir(), ".cache", "tfbridge", "wheels"),
};
const project = join(work, "service");

async function sh(cwd: string, command: string, args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await exec(command, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 });
    return { stdout, stderr, code: 0 };
  } catch (e) {
    const { stdout, stderr, code } = e as { stdout: string; stderr: string; code: number };
    return { stdout, stderr, code };
  }
}

const SERVICE = `
import { Bridge, ndarray, tfjsInfo } from "tfbridge";

const bridge = await Bridge.start();
try {
  const x = ndarray("float32", [1, 10, 1], new Float32Array(10).fill(0.5));
  const { output } = await bridge.runLstm({ units: 32, inputShape: [10, 1] }, x);
  const tfjs = await tfjsInfo();
  console.log(JSON.stringify({ shape: output.shape, python: bridge.info.tensorflow, tfjs }));
} finally {
  await bridge.close();
}
`;

/** Two rows of token ids for the text classifier (10 per row, 0 is padding). */
const TOKENS = [[4, 9, 2, 0, 0, 0, 0, 0, 0, 0], [7, 7, 1, 3, 12, 5, 0, 0, 0, 0]];

/** A user's training script stand-in: a Keras 3 file saved through the bridge, and its predictions of TOKENS. */
const MODEL = `import { Bridge, ndarray } from "tfbridge";
import { REFERENCE_MODELS } from "tfbridge/parity";
const bridge = await Bridge.start();
try {
  const handle = await bridge.model(REFERENCE_MODELS["text-classifier"](), { seed: 1 });
  await handle.save("text.keras");
  const { outputs, names } = await handle.predict(ndarray("int32", [2, 10], Int32Array.from(${JSON.stringify(TOKENS.flat())})));
  console.log(JSON.stringify(Array.from(outputs[names[0]].data)));
} finally {
  await bridge.close();
}
`;

describe("npm pack → npm install into a fresh project → npx tfbridge setup → a service", () => {
  it("installs with plain npm install, is set up by one command, and serves", { timeout: 900_000 }, async () => {
    // Without prepack, which would compile dist/ again under the files that read it (the global setup compiled it).
    const packed = await sh(root, "npm", ["pack", "--ignore-scripts", "--pack-destination", work, "--silent"]);
    expect(packed.code, packed.stderr).toBe(0);
    const tarball = join(work, packed.stdout.trim().split("\n").pop()!);

    mkdirSync(project);
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "service", private: true, type: "module" }));
    // No --ignore-scripts: what a user types.
    const installed = await sh(project, "npm", ["install", "--no-audit", "--no-fund", tarball]);
    expect(installed.code, installed.stderr).toBe(0);
    expect(readdirSync(join(project, "node_modules"))).not.toContain("@tensorflow");
    // npm 11 skips dependencies' install scripts unless allowScripts lists them, and says so for
    // zeromq's; its prebuilt addon ships in the package, so it loads without the script (README).
    const zeromq = await sh(project, process.execPath, ["-e", "import('zeromq').then((z) => console.log(typeof z.Router))"]);
    expect(zeromq.stdout.trim(), zeromq.stderr).toBe("function");

    // Before setup, doctor names what is missing and the command that fixes it.
    const before = await sh(project, "npx", ["tfbridge", "doctor"]);
    expect(before.code).toBe(1);
    expect(before.stdout).toMatch(/PROBLEM: no Python env: .*venv-[0-9a-f]{16}\/bin\/python does not exist \(tfbridge setup has not run\)\n  fix: run `npx tfbridge setup`/);
    expect(before.stdout).toMatch(/PROBLEM: tfjs-node is not usable: .*\n  fix: run `npx tfbridge setup`/);

    const setup = await sh(project, "npx", ["tfbridge", "setup"]);
    expect(setup.code, setup.stderr).toBe(0);
    // The cost of each step, for whoever wonders why this test takes minutes.
    console.info(setup.stderr.split("\n").filter((l) => / done in /.test(l)).join("\n"));
    for (const stepName of ["creating the virtualenv", "installing them into the env", "installing tfjs-node", "building tfjs-node's addon"]) {
      expect(setup.stderr).toMatch(new RegExp(`${stepName}.*: done in \\d+\\.\\d s`));
    }

    const doctor = await sh(project, "npx", ["tfbridge", "doctor", "--json"]);
    const report = JSON.parse(doctor.stdout);
    expect(report.problems).toEqual([]);
    expect(report.python.source).toBe("setup");
    expect(report.tfjs.backend).toBe("tensorflow");
    expect(doctor.code).toBe(0);

    writeFileSync(join(project, "service.mjs"), SERVICE);
    const service = await sh(project, process.execPath, ["service.mjs"]);
    expect(service.code, service.stderr).toBe(0);
    const result = JSON.parse(service.stdout);
    expect(result.shape).toEqual([1, 32]);
    expect(result.tfjs.backend).toBe("tensorflow");
    expect(result.tfjs.tensorflow).toBe(result.python);

    // A second setup only checks.
    const again = await sh(project, "npx", ["tfbridge", "setup"]);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/Python env: up to date/);

    // The optional ONNX parts: absent is no problem; setup --onnx installs them, onnxruntime without its
    // install script (it downloads CUDA libraries), and convert --to onnx proves a model on them.
    expect(report.onnx).toEqual({ tf2onnx: null, onnx: null, "onnxruntime-node": null, "onnxruntime-web": null });
    const onnxSetup = await sh(project, "npx", ["tfbridge", "setup", "--onnx"]);
    expect(onnxSetup.code, onnxSetup.stderr).toBe(0);
    console.info(onnxSetup.stderr.split("\n").filter((l) => / done in /.test(l)).join("\n"));
    expect(onnxSetup.stderr).toMatch(/installing onnxruntime-node and onnxruntime-web 1\.31\.1 \(npm ci, without install scripts\).*: done in/);
    const withOnnx = JSON.parse((await sh(project, "npx", ["tfbridge", "doctor", "--json"])).stdout);
    expect(withOnnx.problems).toEqual([]);
    expect(withOnnx.onnx).toEqual({ tf2onnx: "1.17.0", onnx: "1.23.2", "onnxruntime-node": "1.31.1", "onnxruntime-web": "1.31.1" });
    writeFileSync(join(project, "model.mjs"), MODEL);
    const saved = await sh(project, process.execPath, ["model.mjs"]);
    expect(saved.code, saved.stderr).toBe(0);
    const keras = JSON.parse(saved.stdout) as number[];

    // The "done when": `npx tfbridge serve --model` from the installed package answers a TF
    // Serving predict with Keras's numbers, and its /metadata and /metrics are right.
    // The bin npx runs, started directly so that SIGTERM reaches serve itself.
    const serve = spawn(join(project, "node_modules", ".bin", "tfbridge"), ["serve", "--model", "text=text.keras", "--port", "0", "--workers", "1"], { cwd: project, env, stdio: ["ignore", "pipe", "pipe"] });
    const served = new Promise<number | null>((resolve) => serve.on("exit", resolve));
    try {
      const base = await new Promise<string>((resolve, reject) => {
        let out = "";
        serve.stdout!.on("data", (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes("model text ready")) resolve(/listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!);
        });
        serve.on("exit", (code) => reject(new Error(`npx tfbridge serve exited with ${code}:\n${out}`)));
      });
      const answer = await fetch(`${base}/v1/models/text:predict`, { method: "POST", body: JSON.stringify({ instances: TOKENS }) });
      const { predictions } = (await answer.json()) as { predictions: number[][] };
      expect(predictions.flat()).toHaveLength(keras.length);
      expect(Math.max(...predictions.flat().map((v, i) => Math.abs(v - keras[i]!)))).toBeLessThan(1e-6);
      const meta = (await (await fetch(`${base}/v1/models/text/metadata`)).json()) as { metadata: { signature_def: { signature_def: { serving_default: { inputs: Record<string, { dtype: string }> } } } } };
      expect(Object.values(meta.metadata.signature_def.signature_def.serving_default.inputs).map((i) => i.dtype)).toEqual(["DT_INT32"]);
      expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/^tfbridge_http_requests_total\{route="predict",code="200"\} 1$/m);
    } finally {
      serve.kill("SIGTERM");
    }
    expect(await served).toBe(0);

    const converted = await sh(project, "npx", ["tfbridge", "convert", "text.keras", "onnx_model", "--to", "onnx", "--json"]);
    expect(converted.code, converted.stderr).toBe(0);
    expect(JSON.parse(converted.stdout)).toMatchObject({ ok: true, files: ["model.onnx", "parity.json", "parity.html"] });
  });
});
