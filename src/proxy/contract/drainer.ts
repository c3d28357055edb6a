/**
 * The quiet period of the sidecar's drain, as knative/pkg
 * `network/handlers/drain.go` (Drainer) keeps it: once a drain starts,
 * probes answer 503 and the drain ends when no request has arrived for the
 * quiet period.
 */

/**
 * Times a drain. {@link Drainer.drain} starts the quiet period; each
 * {@link Drainer.requestArrived} restarts it; the drain ends when it runs out
 * or, at the latest, `timeoutMs` after it started (Knative has no such bound:
 * there only the kubelet's grace period ends a busy drain). {@link Drainer.draining}
 * stays true after the end, so probes keep failing until the process exits.
 */
export class Drainer {
  private quietTimer: NodeJS.Timeout | undefined;
  private end: (() => void) | undefined;
  private drained: Promise<void> | undefined;

  /**
   * @param quietPeriodMs - milliseconds without a request that end the drain
   * @param timeoutMs - milliseconds after which the drain ends anyway
   */
  constructor(
    private readonly quietPeriodMs: number,
    private readonly timeoutMs: number,
  ) {}

  /** True from the first {@link Drainer.drain} until a {@link Drainer.reset}. */
  get draining(): boolean {
    return this.drained !== undefined;
  }

  /**
   * Starts the drain if it has not started, and resolves when it ends (or is
   * reset). Every caller gets the same promise.
   */
  drain(): Promise<void> {
    this.drained ??= new Promise((resolve) => {
      const bound = setTimeout(() => this.end?.(), this.timeoutMs);
      this.quietTimer = setTimeout(() => this.end?.(), this.quietPeriodMs);
      this.end = () => {
        clearTimeout(bound);
        clearTimeout(this.quietTimer);
        this.quietTimer = undefined;
        this.end = undefined;
        resolve();
      };
    });
    return this.drained;
  }

  /** A request (not a probe) arrived: restarts a quiet period that is running. No-op otherwise; allocates nothing. */
  requestArrived(): void {
    this.quietTimer?.refresh();
  }

  /**
   * Knative's Reset: ends a running drain at once (its callers resolve) and
   * clears the state, so probes pass again and a later drain waits a whole
   * quiet period.
   */
  reset(): void {
    this.end?.();
    this.drained = undefined;
  }
}
