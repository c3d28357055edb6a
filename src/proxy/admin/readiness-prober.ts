/**
 * Runs the app's readiness probe (Knative's `SERVING_READINESS_PROBE`, parsed
 * by core/readiness-probe.ts) over real sockets, as Knative's queue-proxy does
 * in `pkg/queue/readiness/probe.go`.
 */
import { request } from 'node:http';
import { AGGRESSIVE_PROBE } from '../../core/defaults.js';
import type { ReadinessProbeSpec } from '../../core/readiness-probe.js';
import type { grpcHealthCheck } from './grpc-health-check.js';
import { tcpReachable } from '../contract/network-probe-answer.js';

/** The pace of aggressive probing, in milliseconds; {@link AGGRESSIVE_PROBE} (Knative's) by default. */
export interface AggressiveTiming {
  /** Time from the start of one attempt to the start of the next. */
  readonly retryIntervalMs: number;
  /** How long one attempt waits. */
  readonly attemptTimeoutMs: number;
  /** How long one check keeps trying before it answers not ready. */
  readonly pollTimeoutMs: number;
}

/**
 * Knative's prober sends this User-Agent (on gRPC probes too, where grpc-go
 * appends its own name): the kubelet's prefix with the version parts left
 * empty, so apps that recognise kubelet probes by `kube-probe/` treat it as one.
 */
const PROBE_USER_AGENT = 'kube-probe//';

/**
 * The readiness check behind the sidecar's answer to `K-Network-Probe: queue`.
 * With `periodMs` 0 a check probes aggressively (an attempt every 50 ms, each
 * waiting up to 100 ms, until `successThreshold` attempts in a row succeed, for
 * up to 10 s); otherwise a check is one attempt of up to `timeoutMs`, the
 * kubelet applying period and thresholds to the sidecar's own probe. As in
 * Knative, successes in a row carry over from one check to the next, and
 * concurrent callers share the check that is running.
 */
export class ReadinessProber {
  private readonly attempt: (timeoutMs: number) => Promise<boolean>;
  private successes = 0;
  private running: Promise<boolean> | undefined;

  /**
   * @param spec - the probe
   * @param upstream - host and port of the app, for a probe that names neither
   * @param timing - the pace of aggressive probing
   */
  constructor(
    private readonly spec: ReadinessProbeSpec,
    upstream: { readonly host: string; readonly port: number },
    private readonly timing: AggressiveTiming = AGGRESSIVE_PROBE,
  ) {
    const { action } = spec;
    // A grpc action has no host (Kubernetes' has none; Knative dials 127.0.0.1, where the app is).
    const host = (action.kind === 'grpc' ? undefined : action.host) ?? upstream.host;
    const port = action.port ?? upstream.port;
    const authority = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    if (action.kind === 'tcpSocket') {
      this.attempt = (timeoutMs) => tcpReachable(host, port, timeoutMs);
      return;
    }
    if (action.kind === 'grpc') {
      // Loaded on first use, so that a sidecar without a gRPC probe loads neither node:http2 nor protobufjs at start.
      const target = { authority, service: action.service, userAgent: PROBE_USER_AGENT };
      let check: Promise<ReturnType<typeof grpcHealthCheck>> | undefined;
      this.attempt = async (timeoutMs) => {
        check ??= import('./grpc-health-check.js').then((module) => module.grpcHealthCheck(target));
        return (await check)(timeoutMs);
      };
      return;
    }
    const named = (name: string): boolean => action.headers.some(([given]) => given.toLowerCase() === name);
    // Node adds no Host header to a request whose headers come as a list, so the list carries it.
    const headers = [...(named('host') ? [] : ['Host', authority]), ...(named('user-agent') ? [] : ['User-Agent', PROBE_USER_AGENT]), ...action.headers.flat()];
    this.attempt = (timeoutMs) => httpReady({ host, port, path: action.path, headers, timeoutMs });
  }

  /** Resolves true when the app is ready; never rejects. Joins the check already running, if any. */
  check(): Promise<boolean> {
    this.running ??= (this.spec.periodMs === 0 ? this.aggressive() : this.attempt(this.spec.timeoutMs)).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async aggressive(): Promise<boolean> {
    const { retryIntervalMs, attemptTimeoutMs, pollTimeoutMs } = this.timing;
    const deadline = performance.now() + pollTimeoutMs;
    for (;;) {
      const started = performance.now();
      if (!(await this.attempt(attemptTimeoutMs))) this.successes = 0;
      else if (++this.successes >= this.spec.successThreshold) return true;
      const next = started + retryIntervalMs;
      if (next >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, next - performance.now()));
    }
  }
}

/** One HTTP GET on a fresh connection: true for a status from 200 to 399 within `timeoutMs`, false otherwise. */
function httpReady(target: { host: string; port: number; path: string; headers: string[]; timeoutMs: number }): Promise<boolean> {
  return new Promise((resolve) => {
    const { host, port, path, headers, timeoutMs } = target;
    request({ host, port, path, headers, agent: false, signal: AbortSignal.timeout(timeoutMs) }, (response) => {
      // The body is read and dropped; an abort after the head is not a failure to report.
      response.on('error', () => undefined).resume();
      const status = response.statusCode ?? 0;
      resolve(status >= 200 && status < 400);
    })
      .on('error', () => resolve(false))
      .end();
  });
}
