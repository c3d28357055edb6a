import { cpuTimeMs } from './proc.js';

/** One server under test in alternating rounds, and what its rounds measured. */
export interface Side {
  /** What the table calls it. */
  label: string;
  url: string;
  /** The processes whose CPU time is charged to it. */
  pids: number[];
  cpuMs: number[];
  requests: number[];
}

/** A new side with nothing measured yet. */
export function side(label: string, url: string, pids: number[]): Side {
  return { label, url, pids, cpuMs: [], requests: [] };
}

/** CPU microseconds per request over the given rounds of `side` (all of them by default). */
export function cpuPerRequest(side: Side, rounds: readonly number[] = side.cpuMs.map((_, i) => i)): number {
  const cpuMs = rounds.reduce((sum, i) => sum + side.cpuMs[i]!, 0);
  const requests = rounds.reduce((sum, i) => sum + side.requests[i]!, 0);
  return (cpuMs * 1000) / requests;
}

/**
 * Loads two sides in `rounds` rounds of alternating order (AB, BA, ...), each round one call of `load` (which
 * returns the requests it completed), the sides' CPU time read from /proc around it; the alternation spreads the
 * machine's drift over both. Returns the per-round ratios of CPU per request, `a` over `b`, sorted.
 */
export async function alternate(a: Side, b: Side, rounds: number, load: (url: string) => Promise<number>): Promise<number[]> {
  for (let round = 0; round < rounds; round++) {
    for (const current of round % 2 === 0 ? [a, b] : [b, a]) {
      const before = cpuTimeMs(current.pids);
      const requests = await load(current.url);
      current.cpuMs.push(cpuTimeMs(current.pids) - before);
      current.requests.push(requests);
    }
  }
  return a.cpuMs.map((_, i) => cpuPerRequest(a, [i]) / cpuPerRequest(b, [i])).sort((x, y) => x - y);
}
