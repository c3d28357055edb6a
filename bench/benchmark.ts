/** One line of the results table. */
export interface Row {
  /** What was measured, e.g. `StatsReporter.report()` or `ours ÷ exporter (scrapes/s)`. */
  subject: string;
  /** The measurement with its unit, e.g. `3.1 ns/op`. Empty for pure ratio rows. */
  result?: string;
  /** A ratio between two measurements of the same run; the subject says which over which. */
  ratio?: number;
  /** The target the project set for this line, e.g. `< 100 ns/op`. */
  goal?: string;
  /** Whether the goal was met; absent when the line has no goal. */
  met?: boolean;
}

/**
 * One benchmark: a module under bench/ exporting a value of this type, listed
 * once in the registry of bench/run.ts.
 */
export interface Benchmark {
  /** One line saying what is compared with what. */
  readonly description: string;
  /**
   * Runs the benchmark and its baseline in this invocation. Bounded in time;
   * talks only to 127.0.0.1; stops every process it started.
   */
  run(): Promise<Row[]>;
}
