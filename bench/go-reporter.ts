import { execFile } from 'node:child_process';
import { isExecutable, nodeEntry, type ChildCommand } from './child.js';

/**
 * Where the Go reference reporter is expected. It is built by hand, outside
 * this repository, as /work/shared/anchors/go-reporter/README.md describes;
 * benchmarks mark its columns n/a when it is absent.
 */
export const GO_REPORTER_PATH = '/tmp/go-reporter';

/** True when {@link GO_REPORTER_PATH} exists and is executable. */
export function goReporterAvailable(): boolean {
  return isExecutable(GO_REPORTER_PATH);
}

/**
 * Runs the Go binary's own Report() loop (`-bench-report N`) and returns
 * its cost in nanoseconds per call.
 *
 * @throws Error when the binary fails or prints no `ns/op` figure
 */
export function goReportNsPerOp(iterations: number): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile(GO_REPORTER_PATH, ['-bench-report', String(iterations)], { timeout: 60_000 }, (error, stdout) => {
      const match = /([\d.]+) ns\/op/.exec(stdout);
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- an ExecFileException is an Error, but @types/node builds its type with Omit<>, which hides that from the rule
      if (error !== null) reject(error);
      else if (match === null) reject(new Error(`no ns/op in go-reporter output: ${stdout}`));
      else resolve(Number(match[1]));
    });
  });
}

/** The command that serves the Go reporter's `/metrics` on 127.0.0.1:`port`, under bench/guard.ts so it dies with the runner. */
export function goReporterServer(port: number): ChildCommand {
  return nodeEntry('./guard.js', [GO_REPORTER_PATH, '-addr', `127.0.0.1:${port}`]);
}
