/** Summary statistics for benchmark samples (milliseconds). */
export interface BenchResult {
  name: string;
  runs: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  target?: string;
  note?: string;
}

export function stats(samples: number[]): Omit<BenchResult, 'name'> {
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return {
    runs: samples.length,
    medianMs: Math.round(median),
    minMs: Math.round(sorted[0]!),
    maxMs: Math.round(sorted[sorted.length - 1]!),
  };
}
