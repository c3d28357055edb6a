/** One line of the results table. */
export interface Row {
  /** What was measured, e.g. `ours ÷ exporter (scrapes/s)`. */
  subject: string;
  /** The measurement with its unit, e.g. `12,345 req/s`. Empty for pure ratio rows. */
  result?: string;
  /** A ratio between two measurements of the same run; the subject says which over which. */
  ratio?: number;
  /** The target the project set for this line, e.g. `<= 0.75`. */
  goal?: string;
  /** Whether the goal was met; absent when the line has no goal. */
  met?: boolean;
}

/** One benchmark: a module under bench/suites/ exporting a value of this type, listed once in bench/run.ts. */
export interface Benchmark {
  /** One line saying what is compared with what. */
  readonly description: string;
  /** Runs the benchmark and its baseline in this invocation: bounded in time, 127.0.0.1 only, stops every process it started. */
  run(): Promise<Row[]>;
}

/** A {@link Row} with the name of the benchmark that produced it. */
export type NamedRow = Row & { benchmark: string };

const grouped = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** Formats a rate or count with thousands separators and no decimals, e.g. `12,345`. */
export function formatCount(value: number): string {
  return grouped.format(value);
}

/** Formats a measurement with three significant digits, e.g. `3.14` or `0.0123`; NaN (not measured) as `n/a`. */
export function formatSmall(value: number): string {
  return Number.isNaN(value) ? 'n/a' : String(Number(value.toPrecision(3)));
}

/**
 * The spread of per-pair (or per-round) ratios, sorted ascending: `N <what>: median m, quartiles q1–q3`, with `-` for
 * each figure when there are none.
 */
export function describeRatioSpread(sortedRatios: readonly number[], what: string): string {
  const at = (fraction: number): string => (sortedRatios.length === 0 ? '-' : formatSmall(sortedRatios[Math.round(fraction * (sortedRatios.length - 1))]!));
  return `${sortedRatios.length} ${what}: median ${at(0.5)}, quartiles ${at(0.25)}–${at(0.75)}`;
}

/** Formats bytes as MB (10^6 bytes), e.g. `74.2 MB`. */
export function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/**
 * The median element of `items` by `key`; the lower middle one for an even count, so it is always an actual
 * measurement with its other fields intact.
 *
 * @throws RangeError when `items` is empty
 */
export function medianBy<T>(items: readonly T[], key: (item: T) => number): T {
  if (items.length === 0) throw new RangeError('items must not be empty');
  return [...items].sort((a, b) => key(a) - key(b))[(items.length - 1) >> 1]!;
}

/** Renders rows as a GitHub Markdown table (Benchmark, Measured, Result, Ratio, Goal, Met). */
export function markdownTable(rows: readonly NamedRow[]): string {
  const lines = ['| Benchmark | Measured | Result | Ratio | Goal | Met |', '|---|---|---|---:|---|---|'];
  for (const row of rows) {
    const met = row.met === undefined ? '' : row.met ? 'yes' : '**no**';
    const cells = [row.benchmark, row.subject, row.result ?? '', row.ratio?.toFixed(2) ?? '', row.goal ?? '', met];
    lines.push(`| ${cells.map((text) => text.replaceAll('|', '\\|')).join(' | ')} |`);
  }
  return lines.join('\n');
}
