import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import {
  KERAS3_HARD_SIGMOID,
  TFBRIDGE_CONV1D,
  TFBRIDGE_GRU,
  TFBRIDGE_GRU_CELL,
  TFBRIDGE_LSTM,
  TFBRIDGE_SIMPLE_RNN,
  kerasCustomActivation,
  kerasCustomClass,
  registerKerasLayers,
} from "../../src/tfjs-layers/index.js";
import { loadTfjs } from "../../src/tfjs/runtime.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const moduleDir = join(root, "src/tfjs-layers");

/** The import specifiers a file keeps at run time: what TypeScript emits, type-only imports erased. */
function runtimeImports(file: string): string[] {
  const js = ts.transpileModule(readFileSync(file, "utf8"), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push(node.moduleSpecifier.text);
    }
    if (ts.isCallExpression(node) && (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === "require"))) {
      found.push(`dynamic: ${node.getText()}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile(file, js, ts.ScriptTarget.ES2022, true));
  return found;
}

describe("the tfjs-layers module runs in a browser", () => {
  it("imports, at run time, nothing but its own files: no TF.js, no Node built-ins", () => {
    const files = readdirSync(moduleDir).filter((f) => f.endsWith(".ts"));
    expect(files).toContain("index.ts");
    for (const f of files) {
      for (const spec of runtimeImports(join(moduleDir, f))) {
        expect(spec, `${f} imports ${spec}`).toMatch(/^\.\/[\w-]+\.js$/);
        expect(resolve(moduleDir, spec.replace(/\.js$/, ".ts")).startsWith(moduleDir)).toBe(true);
      }
    }
  });

  it("would catch a Node import (the check above can fail)", () => {
    const probe = join(dirname(fileURLToPath(import.meta.url)), "module.test.ts"); // this file imports node:fs
    expect(runtimeImports(probe)).toContain("node:fs");
  });

  it("is what package.json exports as tfbridge/tfjs-layers", () => {
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { exports: Record<string, { default: string; types: string }> };
    expect(pkg.exports["./tfjs-layers"]).toEqual({ types: "./dist/tfjs-layers/index.d.ts", default: "./dist/tfjs-layers/index.js" });
  });
});

describe("kerasCustomClass / kerasCustomActivation", () => {
  it("names our class exactly where TF.js's own would refuse or differ", () => {
    expect(kerasCustomClass("GRU", { reset_after: true })).toBe(TFBRIDGE_GRU);
    expect(kerasCustomClass("GRU", {})).toBe(TFBRIDGE_GRU); // Keras's default is reset_after=True
    expect(kerasCustomClass("GRU", { reset_after: false })).toBe(TFBRIDGE_GRU); // Keras's masking rules
    expect(kerasCustomClass("Conv1D", { padding: "causal" })).toBe(TFBRIDGE_CONV1D);
    expect(kerasCustomClass("Conv1D", { padding: "valid" })).toBeNull();
    expect(kerasCustomClass("Conv1D", { padding: "same" })).toBeNull();
    expect(kerasCustomClass("LSTM", {})).toBe(TFBRIDGE_LSTM);
    expect(kerasCustomClass("SimpleRNN", {})).toBe(TFBRIDGE_SIMPLE_RNN);
    expect(kerasCustomClass("Dense", {})).toBeNull();
    expect(kerasCustomActivation("hard_sigmoid")).toBe(KERAS3_HARD_SIGMOID);
    expect(kerasCustomActivation("sigmoid")).toBeNull();
  });
});

describe("registerKerasLayers", () => {
  it("registers each class once per tf instance, under names without underscores", async () => {
    const tf = await loadTfjs();
    const first = registerKerasLayers(tf);
    expect(registerKerasLayers(tf)).toBe(first);
    const map = tf.serialization.SerializationMap.getMap().classNameMap;
    for (const name of [KERAS3_HARD_SIGMOID, TFBRIDGE_GRU, TFBRIDGE_GRU_CELL, TFBRIDGE_LSTM, TFBRIDGE_SIMPLE_RNN, TFBRIDGE_CONV1D]) {
      expect(map[name]?.[0], name).toBeDefined();
      expect(name).not.toContain("_"); // TF.js camel-cases string values of a snake_case JSON
    }
    expect(map[TFBRIDGE_GRU]![0]).toBe(first.TfbridgeGRU);
  });

  it("computes Keras 3's hard_sigmoid, relu6(x + 3) / 6, not TF.js's clip(0.2x + 0.5)", async () => {
    const tf = await loadTfjs();
    const { Keras3HardSigmoid } = registerKerasLayers(tf);
    const x = tf.tensor1d([-4, -3, -1, 0, 1, 2.5, 3, 4]);
    const y = new Keras3HardSigmoid().apply(x);
    expect(Array.from(await y.data())).toEqual([0, 0, 2 / 6, 0.5, 4 / 6, 5.5 / 6, 1, 1].map(Math.fround));
    tf.dispose([x, y]);
  });
});
