import type { CommandContext } from "./context.js";

function seconds(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`;
}

/**
 * A progress line on stderr. On a terminal it is rewritten in place; when stderr is a file or a pipe,
 * or with --verbose (whose forwarded logs would tear a rewritten line), each update is a line of its own.
 */
export function progressLine(label: string, context: CommandContext): { update(text: string): void; done(): void } {
  const started = performance.now();
  const inPlace = process.stderr.isTTY === true && !context.verbose;
  let shown = false;
  return {
    update(text) {
      const line = `${label}: ${text} (${seconds(started)})`;
      process.stderr.write(inPlace ? `\r\x1b[2K${line}` : `${line}\n`);
      shown = true;
    },
    done() {
      if (inPlace && shown) process.stderr.write("\n");
    },
  };
}

/** How often a long step says it is still running. */
const HEARTBEAT_MS = 15_000;

/**
 * Runs one named step of a longer job, saying on stderr when it starts, that it is still running
 * (every 15 s), and when it is done, with the elapsed time.
 */
export async function step<T>(name: string, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  process.stderr.write(`${name}…\n`);
  const heartbeat = setInterval(() => process.stderr.write(`${name}: still running (${seconds(started)})\n`), HEARTBEAT_MS);
  try {
    const result = await run();
    process.stderr.write(`${name}: done in ${seconds(started)}\n`);
    return result;
  } finally {
    clearInterval(heartbeat);
  }
}
