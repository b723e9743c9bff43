/**
 * What `require("tfbridge")` (and `tfbridge/parity`, `tfbridge/serving`) finds: tfbridge is an ES
 * module (its dependencies are ES modules, and its examples await at the top level), so CommonJS gets
 * this one clear error instead of Node's ERR_REQUIRE_ESM, with the two ways that work.
 * `tfbridge/tfjs-layers` and `tfbridge/vitest` keep no require condition: bundlers and vitest load them.
 */
const error = new Error(
  'tfbridge is an ES module and cannot be loaded with require(). Either make your code an ES module ' +
    '("type": "module" in package.json, or a .mjs / .mts file) and write `import { Bridge } from "tfbridge"`, ' +
    'or keep CommonJS and load it with `const { Bridge } = await import("tfbridge")` inside an async function.',
);
(error as Error & { code: string }).code = "ERR_TFBRIDGE_ESM_ONLY";
throw error;
