import type { Row } from './benchmark.js';

/** A {@link Row} together with the name of the benchmark that produced it. */
export interface NamedRow extends Row {
  /** The benchmark's name as given on the command line. */
  benchmark: string;
}

const grouped = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** Formats a rate or count with thousands separators and no decimals, e.g. `12,345`. */
export function formatCount(value: number): string {
  return grouped.format(value);
}

/** Formats a small measurement with three significant digits, e.g. `3.14` or `0.0123`; NaN (not measured) as `n/a`. */
export function formatSmall(value: number): string {
  return Number.isNaN(value) ? 'n/a' : String(Number(value.toPrecision(3)));
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|');
}

/** Renders rows as a GitHub Markdown table (Benchmark, Measured, Result, Ratio, Goal, Met). */
export function markdownTable(rows: readonly NamedRow[]): string {
  const lines = ['| Benchmark | Measured | Result | Ratio | Goal | Met |', '|---|---|---|---:|---|---|'];
  for (const row of rows) {
    const ratio = row.ratio === undefined ? '' : row.ratio.toFixed(2);
    const met = row.met === undefined ? '' : row.met ? 'yes' : '**no**';
    const cells = [row.benchmark, row.subject, row.result ?? '', ratio, row.goal ?? '', met];
    lines.push(`| ${cells.map(cell).join(' | ')} |`);
  }
  return lines.join('\n');
}
