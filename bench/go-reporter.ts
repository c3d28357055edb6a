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

/** The command that serves the Go reporter's `/metrics` on 127.0.0.1:`port`, under bench/guard.ts so it dies with the runner. */
export function goReporterServer(port: number): ChildCommand {
  return nodeEntry('./guard.js', [GO_REPORTER_PATH, '-addr', `127.0.0.1:${port}`]);
}
