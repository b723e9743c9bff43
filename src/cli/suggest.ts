/** Edit distance between two short words: insertions, deletions, substitutions and swaps of neighbours. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The candidate a mistyped `word` most likely meant, for a "did you mean" hint: the nearest within an
 * edit distance of a third of its length (at least 1), or one it is a prefix of; undefined when none is.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: { candidate: string; d: number } | undefined;
  for (const candidate of candidates) {
    const d = candidate.startsWith(word) && word.length >= 2 ? 0.5 : distance(word, candidate);
    if (d <= Math.max(1, Math.floor(word.length / 3)) && (!best || d < best.d)) best = { candidate, d };
  }
  return best?.candidate;
}

/** ` (did you mean X?)` when a candidate is near `word`, else nothing. */
export function didYouMean(word: string, candidates: readonly string[], show: (candidate: string) => string = (c) => c): string {
  const near = closest(word, candidates);
  return near === undefined ? "" : ` (did you mean ${show(near)}?)`;
}
