/**
 * A docs block as a CommonJS user writes it, the way README.md's Install section says: each static
 * `import` becomes `await import()` inside an async function, since `require("tfbridge")` is refused
 * (src/require.cts). Type-only names stay types (`type T = import("m").T`), so a `.ts` block still
 * compiles. Only the import forms the docs use are rewritten; any other top-level `import` is left as
 * it is and fails loudly when the block runs.
 */

const STATIC_IMPORT = /^import\s+(type\s+)?([\s\S]*?)\s+from\s+("[^"]+"|'[^']+');?[^\S\n]*(\/\/.*)?$/gm;

/** `{ A, type B, C as D }`'s members, as value destructuring and type aliases. */
function namedMembers(list: string, specifier: string, typeOnly: boolean): string[] {
  const members = list.replace(/^\{|\}$/g, "").split(",").map((m) => m.trim()).filter(Boolean);
  const values: string[] = [];
  const types: string[] = [];
  for (const member of members) {
    const [, isType, name, alias] = /^(type\s+)?(\w+)(?:\s+as\s+(\w+))?$/.exec(member) ?? [];
    if (!name) throw new Error(`commonjs-form: cannot rewrite import member ${JSON.stringify(member)}`);
    if (typeOnly || isType) types.push(`type ${alias ?? name} = import(${specifier}).${name};`);
    else values.push(alias ? `${name}: ${alias}` : name);
  }
  return [...types, ...(values.length ? [`const { ${values.join(", ")} } = await import(${specifier});`] : [])];
}

/** One static import as the statements that load the same names dynamically. */
function dynamicImport(clause: string, specifier: string, typeOnly: boolean): string {
  const namespace = /^\*\s+as\s+(\w+)$/.exec(clause);
  if (namespace) return `const ${namespace[1]} = await import(${specifier});`;
  const [, defaultName, named] = /^(\w+)?\s*,?\s*(\{[\s\S]*\})?$/.exec(clause) ?? [];
  if (!defaultName && !named) throw new Error(`commonjs-form: cannot rewrite import clause ${JSON.stringify(clause)}`);
  return [
    ...(defaultName ? [`const { default: ${defaultName} } = await import(${specifier});`] : []),
    ...(named ? namedMembers(named, specifier, typeOnly) : []),
  ].join("\n");
}

/**
 * `code` (an ES module block) as a CommonJS program: imports made dynamic, the rest inside an async
 * function whose failure exits 1, as an unhandled rejection in the ES module would.
 */
export function commonjsForm(code: string): string {
  const body = code.replace(STATIC_IMPORT, (_line, typeOnly: string | undefined, clause: string, specifier: string) =>
    dynamicImport(clause.trim(), specifier, Boolean(typeOnly)),
  );
  // The guard makes a block that ran as an ES module fail: the form must really be tried as CommonJS.
  return `"use strict";\nif (typeof module === "undefined") throw new Error("not run as CommonJS");\n(async () => {\n${body}\n})().catch((e) => {\n  console.error(e);\n  process.exit(1);\n});\n`;
}
