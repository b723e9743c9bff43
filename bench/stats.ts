/** Timing helpers: every figure is a set of samples summarized the same way. */

export interface Summary {
  n: number;
  min: number;
  median: number;
  p99: number;
}

export function summarize(samples: number[]): Summary {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { n: s.length, min: s[0]!, median: at(0.5), p99: at(0.99) };
}

/** Milliseconds of each of `reps` awaited calls, after `warmup` untimed ones. */
export async function timeMs(fn: () => Promise<unknown> | unknown, reps: number, warmup = 1): Promise<Summary> {
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  return summarize(samples);
}

/** Progress on stderr, so stdout keeps only the table. */
export function progress(line: string): void {
  process.stderr.write(`  ${line}\n`);
}

export const round = (x: number, digits = 3) => Number(x.toPrecision(digits));

/** Gives back the shared memory of a reply's arrays at once (local link), as a careful caller would. */
export function release(arrays: readonly object[]): void {
  for (const a of arrays) (a as { release?: () => void }).release?.();
}
