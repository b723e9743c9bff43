import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ONNX_RUNTIME_VERSION, TFJS_NODE_VERSION } from "../../src/setup/env.js";

// Read from the files alone (seconds): make test checks the pins; test/long/tarball.test.ts installs from them.
const root = new URL("../..", import.meta.url).pathname;

describe("the packages tfbridge setup installs", () => {
  it("tfjs-node's version is the same wherever it is pinned", () => {
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    const env = JSON.parse(readFileSync(join(root, "scripts", "tfjs-node-env", "package.json"), "utf8"));
    expect(pkg.devDependencies["@tensorflow/tfjs-node"]).toBe(TFJS_NODE_VERSION);
    expect(env.dependencies["@tensorflow/tfjs-node"]).toBe(TFJS_NODE_VERSION);
    // The same for onnxruntime: devDependencies for the clone, scripts/onnx-env for setup --onnx.
    const onnxEnv = JSON.parse(readFileSync(join(root, "scripts", "onnx-env", "package.json"), "utf8"));
    for (const pkgName of ["onnxruntime-node", "onnxruntime-web"]) {
      expect(pkg.devDependencies[pkgName]).toBe(ONNX_RUNTIME_VERSION);
      expect(onnxEnv.dependencies[pkgName]).toBe(ONNX_RUNTIME_VERSION);
      expect(Object.keys(pkg.dependencies)).not.toContain(pkgName);
    }
    // An installed tfbridge must not pull tfjs-node in: its install script downloads from the web.
    expect(Object.keys(pkg.dependencies)).not.toContain("@tensorflow/tfjs-node");
  });
});
