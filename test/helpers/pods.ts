import type { ServerResponse } from 'node:http';
import type { Identity } from '../../src/core/identity.js';
import { boundPorts, startCli, type CliProcess } from './cli.js';
import { get, serve, until } from './http.js';

/** The header Knative's activator puts on the requests it forwards. */
export const ACTIVATOR = { 'K-Proxy-Request': 'activator' };

/**
 * A "pod" on 127.0.0.1: a node:http app and the real sidecar CLI in front of it. The app answers
 * `/` at once and holds `/hold` open until {@link Pod.release}, so a test knows exactly how many
 * requests are in flight.
 */
export interface Pod {
  readonly identity: Identity;
  /** The sidecar's serving port (8012 in a cluster), where traffic enters the pod. */
  readonly servingPort: number;
  /** The sidecar's metrics port (9090, named `http-autometric`, in a cluster). */
  readonly metricsPort: number;
  /** Requests the app holds open right now. */
  held(): number;
  /**
   * Sends `count` requests to `/hold` through the sidecar, the first `proxied` of them as the
   * activator, and waits until the app holds them all. They end on {@link release}.
   */
  hold(count: number, proxied: number): Promise<void>;
  /** Answers every held request. */
  release(): void;
  /** Releases held requests, kills the sidecar and closes the app. */
  stop(): Promise<void>;
}

/** Starts one pod: its app on a free port and `queue-stats` in front of it with `identity`. */
export async function startPod(identity: Identity): Promise<Pod> {
  const waiting: ServerResponse[] = [];
  const app = await serve((req, res) => {
    if (req.url === '/hold') waiting.push(res);
    else res.end('ok');
  });
  const { namespace, config, revision, pod } = identity;
  const args = ['--upstream', `http://127.0.0.1:${app.port}`, '--host', '127.0.0.1', '--namespace', namespace, '--config', config, '--revision', revision, '--pod', pod];
  let sidecar: CliProcess;
  let servingPort: number;
  let metricsPort: number;
  try {
    sidecar = await startCli(args);
    ({ proxy: servingPort, metrics: metricsPort } = boundPorts(sidecar));
  } catch (error) {
    await app.close();
    throw error;
  }
  const release = (): void => {
    for (const res of waiting.splice(0)) res.end('released');
  };
  const pending: Array<Promise<unknown>> = [];
  return {
    identity,
    servingPort,
    metricsPort,
    held: () => waiting.length,
    async hold(count, proxied) {
      const target = waiting.length + count;
      for (let i = 0; i < count; i++) pending.push(get(servingPort, '/hold', i < proxied ? ACTIVATOR : {}).catch(() => undefined));
      await until(() => waiting.length === target, `${pod} to hold ${target} requests`);
    },
    release,
    async stop() {
      release();
      await Promise.all(pending);
      sidecar.kill();
      await sidecar.exited;
      await app.close();
    },
  };
}

/**
 * Sends one request to `/` of every pod every `tickMs`, every `proxiedEvery`-th tick as the
 * activator: a steady arrival rate of `1000 / tickMs` per second and pod. Returns a function that
 * stops it and waits for the requests still under way.
 */
export function steadyLoad(pods: readonly Pod[], tickMs: number, proxiedEvery: number): () => Promise<void> {
  const sent: Array<Promise<unknown>> = [];
  let tick = 0;
  const timer = setInterval(() => {
    tick++;
    const headers = tick % proxiedEvery === 0 ? ACTIVATOR : {};
    for (const pod of pods) sent.push(get(pod.servingPort, '/', headers).catch(() => undefined));
  }, tickMs);
  return async () => {
    clearInterval(timer);
    await Promise.all(sent);
  };
}
