import { cpuTimeMs } from './proc.js';
import { describeRatioSpread, formatCount, formatSmall, type Row } from './table.js';
import { runWrk } from './wrk.js';

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

/**
 * Compares the CPU per request of two sides under wrk -t1 -c32: one unmeasured warm-up round each (so both run
 * optimised code), then `rounds` alternating rounds of `seconds` (see {@link alternate}). Gives a row for each side
 * and a ratio row, `a` over `b`, with the spread of the per-round ratios; the caller adds a goal to it.
 */
export async function compareUnderWrk(a: Side, b: Side, rounds: number, seconds: number): Promise<{ rows: [Row, Row]; ratio: Row & { ratio: number } }> {
  const wrk = async (url: string, durationSeconds: number): Promise<number> => (await runWrk({ url, connections: 32, durationSeconds })).requests;
  for (const warmed of [a, b]) await wrk(warmed.url, Math.max(1, Math.min(2, seconds)));
  const pairs = await alternate(a, b, rounds, (url) => wrk(url, seconds));
  const total = (measured: Side): number => measured.requests.reduce((sum, n) => sum + n, 0);
  const row = (measured: Side): Row => ({
    subject: `${measured.label}: ${rounds} rounds of wrk -t1 -c32 for ${seconds} s`,
    result: `${formatCount(total(measured) / (rounds * seconds))} req/s, CPU ${formatSmall(cpuPerRequest(measured))} µs/req`,
  });
  return {
    rows: [row(a), row(b)],
    ratio: { subject: `${a.label} ÷ ${b.label} (CPU µs/req over all rounds)`, result: describeRatioSpread(pairs, 'rounds'), ratio: cpuPerRequest(a) / cpuPerRequest(b) },
  };
}
