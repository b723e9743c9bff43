import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

// docs/architecture.md states which folder of src/ may import which; this reads every value import in
// src/ and holds the code to that table, and keeps the module graph free of cycles.
const root = new URL("../..", import.meta.url).pathname;
const src = join(root, "src");

/** The rows of the markdown table whose header row is `header`: each unit → what it may import. */
function ruleTable(markdown: string, header: string): Map<string, Set<string> | "anything"> {
  const lines = markdown.split("\n");
  const start = lines.findIndex((l) => l.replace(/\s+/g, " ").trim() === header);
  if (start < 0) throw new Error(`docs/architecture.md has no table headed ${header}`);
  const rules = new Map<string, Set<string> | "anything">();
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith("|")) break;
    const [unit, allowed] = line.split("|").slice(1, 3).map((cell) => cell.trim());
    const names = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
    const allowedNames = /^anything\b/.test(allowed!) ? "anything" : new Set(names(allowed!));
    for (const name of names(unit!)) rules.set(name, allowedNames);
  }
  return rules;
}

/** Every .ts file under `dir`. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

/**
 * The relative modules `file` imports as values: import and export declarations that are not
 * type-only (wholly, or in every named binding), and dynamic `import("./x.js")` calls.
 */
function valueImports(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, false);
  const found: string[] = [];
  const add = (specifier: ts.Expression | undefined) => {
    if (specifier && ts.isStringLiteral(specifier) && specifier.text.startsWith(".")) {
      found.push(resolve(dirname(file), specifier.text.replace(/\.js$/, ".ts")));
    }
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const bindings = clause?.namedBindings;
      const onlyTypes =
        clause?.isTypeOnly ||
        (clause && !clause.name && bindings && ts.isNamedImports(bindings) && bindings.elements.length > 0 && bindings.elements.every((e) => e.isTypeOnly));
      if (!onlyTypes) add(node.moduleSpecifier);
    } else if (ts.isExportDeclaration(node)) {
      const clause = node.exportClause;
      const onlyTypes = node.isTypeOnly || (clause && ts.isNamedExports(clause) && clause.elements.length > 0 && clause.elements.every((e) => e.isTypeOnly));
      if (!onlyTypes) add(node.moduleSpecifier);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node.arguments[0]);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** A file's unit in the table: its folder under src/, or its own name for a file directly in src/. */
function unitOf(file: string): string {
  const parts = relative(src, file).split("/");
  return parts.length === 1 ? parts[0]!.replace(/\.ts$/, "") : parts[0]!;
}

/** One cycle in `graph` (as the path that closes it), or null. */
function findCycle(graph: Map<string, string[]>): string[] | null {
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (node: string): string[] | null => {
    if (state.get(node) === "done") return null;
    if (state.get(node) === "open") return [...path.slice(path.indexOf(node)), node];
    state.set(node, "open");
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(node, "done");
    return null;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return null;
}

const rules = ruleTable(readFileSync(join(root, "docs", "architecture.md"), "utf8"), "| folder | may import |");
const graph = new Map(sources(src).map((file) => [file, valueImports(file, readFileSync(file, "utf8"))]));

describe("docs/architecture.md's import rules, TypeScript", () => {
  it("reads value imports, not type-only ones", () => {
    const text = [
      'import { a } from "./a.js";',
      'import type { B } from "./b.js";',
      'import { type C, type D } from "./c.js";',
      'import { type E, f } from "./e.js";',
      'export { type G } from "./g.js";',
      'export * from "./h.js";',
      'const i = await import("./i.js");',
      'import * as node from "node:fs";',
    ].join("\n");
    expect(valueImports("/x/y.ts", text)).toEqual(["/x/a.ts", "/x/e.ts", "/x/h.ts", "/x/i.ts"]);
    expect(findCycle(new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]]]))).toEqual(["a", "b", "c", "a"]);
    expect(findCycle(new Map([["a", ["b", "c"]], ["b", ["c"]], ["c", []]]))).toBeNull();
  });

  it("every folder of src/ has a row", () => {
    const units = new Set([...graph.keys()].map(unitOf));
    expect([...units].filter((u) => !rules.has(u)).sort()).toEqual([]);
  });

  it("each folder imports only what its row allows", () => {
    const broken: string[] = [];
    for (const [file, imports] of graph) {
      const from = unitOf(file);
      const allowed = rules.get(from);
      for (const target of imports) {
        const to = unitOf(target);
        if (to === from || allowed === "anything") continue;
        if (!allowed?.has(to)) broken.push(`${relative(root, file)} imports ${relative(root, target)} (${from} → ${to})`);
      }
    }
    expect(broken).toEqual([]);
  });

  it("no module imports itself through others", () => {
    const cycle = findCycle(graph);
    expect(cycle?.map((f) => relative(root, f)) ?? null).toBeNull();
  });
});
