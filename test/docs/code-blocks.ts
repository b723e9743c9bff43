import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

// The docs' code blocks, as both the test that runs them (test/readme.test.ts) and the one that
// type-checks them against the published types (test/install/consumer-types.test.ts) read them.

const root = new URL("../..", import.meta.url).pathname;

/** A fenced code block of a page: its info string's language, whether it runs, and its text. */
export interface Block {
  line: number;
  lang: string;
  info: string;
  code: string;
}

/** README.md and every page of docs/, as paths from the repository's root. */
export const DOC_PAGES = ["README.md", ...readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md")).sort().map((f) => `docs/${f}`)];

/** Every top-level ``` block, in order (the convention CONTRIBUTING.md's "What the tests hold to" states). */
export function codeBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    while (++i < lines.length && lines[i] !== "```") body.push(lines[i]!);
    const info = open[1]!.trim();
    // CommonMark: a backtick in a backtick fence's info string makes the line a paragraph, and the next fence opens a block that swallows prose.
    if (info.includes("`")) throw new Error(`line ${start + 1}: a \`\`\` fence's info string cannot hold a backtick (the block would not render as code): ${info}`);
    blocks.push({ line: start + 1, lang: info.split(/\s+/)[0] ?? "", info, code: `${body.join("\n")}\n` });
  }
  return blocks;
}

/** A page's blocks, read from the repository. */
export function pageBlocks(page: string): Block[] {
  return codeBlocks(readFileSync(join(root, page), "utf8"));
}

/** Whether a block says it does not run (` ```sh norun: why `). */
export const isNorun = (block: Block): boolean => /\bnorun\b/.test(block.info);
