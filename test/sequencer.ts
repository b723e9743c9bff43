// The order vitest starts test files in: the longest first. Without a results cache (a fresh clone,
// CI), vitest starts the largest files first, and a short file that runs for two minutes
// (small-applications.test.ts, 2 tests) started last, with one of the two cores idle beside it.
import { existsSync } from "node:fs";
import { join, relative } from "node:path";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * The files that took a minute or more from a fresh clone (2026-12-05), longest first: they start
 * before every other file, in this order. A name that no longer exists fails the run, so the list
 * cannot go stale unnoticed.
 */
const LONGEST = [
  "test/readme.test.ts",
  "test/convert/onnx-convert.test.ts",
  "test/models/small-applications.test.ts",
  "test/parity/model-parity.test.ts",
  "test/parity/attention-parity.test.ts",
  "test/tfjs-layers/attention.test.ts",
  "test/models/any-model.test.ts",
  "test/cli/model-parity.test.ts",
];

/** vitest's own order (failed first, then by last duration or size), with {@link LONGEST} ahead of all but the files that failed last time. */
export class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    const missing = LONGEST.filter((file) => !existsSync(join(root, file)));
    if (missing.length > 0) throw new Error(`test/sequencer.ts lists files that do not exist: ${missing.join(", ")}`);
    const rank = (spec: TestSpecification) => {
      const file = relative(root, spec.moduleId);
      if (this.ctx.cache.getFileTestResults(`${spec.project.name}:${file}`)?.failed) return -1;
      const at = LONGEST.indexOf(file);
      return at === -1 ? LONGEST.length : at;
    };
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}
