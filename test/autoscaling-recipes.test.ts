import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { podTargetGroups, withFileDiscovery, type DiscoveredPort, type PromConfig } from './helpers/kubernetes-sd.js';
import { configPath } from './helpers/otel-config.js';
import { startPod, steadyLoad, type Pod } from './helpers/pods.js';
import { prometheusMissing, PrometheusServer } from './helpers/prometheus.js';
import { adapterRecipe, dashboard, desiredReplicas, expandMetricsQuery, fillVariables, kedaTrigger, parseLabelValues } from './helpers/recipes.js';

const missing = prometheusMissing();
if (missing) console.log(`# skipping the autoscaling recipes test: ${missing}`);

// The namespace and configuration the shipped KEDA query selects. Three pods of one revision carry
// 8 held requests each (24 in flight, 8 of them through the activator: direct 4, 6 and 6), a
// fourth pod of another Deployment carries 6 direct ones the hello recipes must not count.
const HELLO = { namespace: 'demo', config: 'hello', revision: 'hello-00001' };
const WORLD = { namespace: 'demo', config: 'world', revision: 'world-00001', pod: 'p4' };
const HELD: Record<string, { count: number; proxied: number }> = { p1: { count: 8, proxied: 4 }, p2: { count: 8, proxied: 2 }, p3: { count: 8, proxied: 2 }, p4: { count: 6, proxied: 0 } };
// Steady arrivals: one request per pod every 100 ms, every fifth tick through the activator.
const TICK_MS = 100;
const PROXIED_EVERY = 5;
// Concurrency tolerance: the steady requests add a few ms each to the held ones' exact counts.
const CONCURRENCY_TOLERANCE = 0.3;
// Rate tolerance: a 100 ms tick can land either side of a sidecar's one-second window.
const RATE_TOLERANCE = 1.5;

/** The value of a one-sample instant query, failing when the query returns no sample or several. */
async function single(prometheus: PrometheusServer, expr: string): Promise<number> {
  const samples = await prometheus.query(expr);
  assert.equal(samples.length, 1, `${expr}: ${JSON.stringify(samples)}`);
  return Number(samples[0]!.value[1]);
}

/** Asserts `actual` is within `tolerance` of `expected`. */
function near(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual}, expected ${expected} ± ${tolerance}`);
}

describe('the autoscaling recipes on a real Prometheus over four sidecars', { skip: missing, timeout: 60_000 }, () => {
  const pods: Pod[] = [];
  let prometheus: PrometheusServer | undefined;
  let stopLoad: (() => Promise<void>) | undefined;

  before(async () => {
    const names = [...['p1', 'p2', 'p3'].map((pod) => ({ ...HELLO, pod })), WORLD];
    const started = await Promise.allSettled(names.map(startPod));
    for (const result of started) if (result.status === 'fulfilled') pods.push(result.value);
    for (const result of started) if (result.status === 'rejected') throw result.reason;
    const shipped = configPath('prometheus.yml');
    const config = parse(await readFile(shipped, 'utf8')) as PromConfig;
    prometheus = await PrometheusServer.startWithConfig((dir) => {
      const targetsFile = join(dir, 'pods.json');
      const ports: DiscoveredPort[] = pods.flatMap((p) => [
        { address: `127.0.0.1:${p.metricsPort}`, namespace: p.identity.namespace, pod: p.identity.pod, container: 'queue-stats', portName: 'http-autometric', phase: 'Running' },
        // The serving port and a pod that is not running yet: the shipped relabelling drops both.
        { address: `127.0.0.1:${p.servingPort}`, namespace: p.identity.namespace, pod: p.identity.pod, container: 'queue-stats', portName: 'http', phase: 'Running' },
      ]);
      ports.push({ address: '127.0.0.1:9', namespace: 'demo', pod: 'p5', container: 'queue-stats', portName: 'http-autometric', phase: 'Pending' });
      writeFileSync(targetsFile, JSON.stringify(podTargetGroups(ports)));
      const local = withFileDiscovery(config, shipped, targetsFile);
      // One-second scrapes and rule evaluations instead of 5 s and 15 s keep the test short.
      local.global = { ...local.global, scrape_interval: '1s', evaluation_interval: '1s' };
      local.scrape_configs = local.scrape_configs.map((job) => ({ ...job, scrape_interval: '1s' }));
      return stringify(local);
    });
    await Promise.all(pods.map((p) => p.hold(HELD[p.identity.pod]!.count, HELD[p.identity.pod]!.proxied)));
    stopLoad = steadyLoad(pods, TICK_MS, PROXIED_EVERY);
    await prometheus.waitForTargetsUp(4);
    // Held load over whole windows, scraped, and evaluated by the rules.
    const { query } = await kedaTrigger();
    const settled = async (expr: string, expected: number): Promise<boolean> => Math.abs((await single(prometheus!, expr)) - expected) <= CONCURRENCY_TOLERANCE;
    await prometheus.waitFor(() => settled(query, 16), 'the held load in the KEDA query');
    // Each revision's own: the pods are scraped at their own offsets, so hello's rule settled says nothing of world's
    // (its series was still missing 1 run in 3 on Node 22).
    await prometheus.waitFor(() => settled('revision:queue_direct_concurrent_requests:sum{destination_revision="hello-00001"}', 16), 'the held load in the rules');
    await prometheus.waitFor(() => settled('revision:queue_direct_concurrent_requests:sum{destination_revision="world-00001"}', 6), "world's held load in the rules");
  });

  after(async () => {
    await stopLoad?.();
    await prometheus?.stop();
    await Promise.all(pods.map((p) => p.stop()));
  });

  it('scrapes only the metrics port of running pods, labelled by the shipped relabelling', async () => {
    const up = await prometheus!.query('up');
    const labels = up.map((s) => `${s.metric['job']} ${s.metric['namespace']}/${s.metric['pod']}/${s.metric['container']} ${s.value[1]}`).sort();
    assert.deepEqual(labels, ['queue-stats demo/p1/queue-stats 1', 'queue-stats demo/p2/queue-stats 1', 'queue-stats demo/p3/queue-stats 1', 'queue-stats demo/p4/queue-stats 1']);
  });

  it('KEDA: the shipped query gives 16 direct in-flight requests for hello, so 2 replicas at threshold 10', async (t) => {
    const { query, threshold } = await kedaTrigger();
    const total = await single(prometheus!, query);
    t.diagnostic(`KEDA query: ${total}`);
    near(total, 16, CONCURRENCY_TOLERANCE, query);
    assert.equal(threshold, 10);
    assert.equal(desiredReplicas(3, total / (threshold * 3)), 2);
  });

  it('prometheus-adapter + HPA: 4, 6 and 6 per hello pod, so 2 replicas; the world pod alone stays at 1', async (t) => {
    const { metricsQuery, target } = await adapterRecipe();
    const query = expandMetricsQuery(metricsQuery, 'demo', ['p1', 'p2', 'p3']);
    const perPod = Object.fromEntries((await prometheus!.query(query)).map((s) => [String(s.metric['pod']), Number(s.value[1])]));
    t.diagnostic(`adapter query per pod: ${JSON.stringify(perPod)}`);
    assert.deepEqual(Object.keys(perPod).sort(), ['p1', 'p2', 'p3'], query);
    for (const [pod, expected] of Object.entries({ p1: 4, p2: 6, p3: 6 })) near(perPod[pod]!, expected, CONCURRENCY_TOLERANCE / 3, `${pod} in ${query}`);
    const average = (perPod['p1']! + perPod['p2']! + perPod['p3']!) / 3;
    assert.equal(target, 10);
    assert.equal(desiredReplicas(3, average / target), 2);

    const world = await single(prometheus!, expandMetricsQuery(metricsQuery, 'demo', ['p4']));
    near(world, 6, CONCURRENCY_TOLERANCE / 3, 'p4');
    assert.equal(desiredReplicas(1, world / target), 1);
  });

  it('the recording rules sum each revision on its own', async (t) => {
    const rule = async (name: string, revision: string): Promise<number> => {
      const value = await single(prometheus!, `${name}{destination_namespace="demo",destination_revision="${revision}"}`);
      t.diagnostic(`${name} ${revision}: ${value}`);
      return value;
    };
    near(await rule('revision:queue_direct_concurrent_requests:sum', 'hello-00001'), 16, CONCURRENCY_TOLERANCE, 'hello direct concurrency');
    near(await rule('revision:queue_average_concurrent_requests:sum', 'hello-00001'), 24, CONCURRENCY_TOLERANCE, 'hello concurrency');
    near(await rule('revision:queue_direct_concurrent_requests:sum', 'world-00001'), 6, CONCURRENCY_TOLERANCE, 'world direct concurrency');
    assert.equal(await rule('revision:queue_reporting_pods:count', 'hello-00001'), 3);
    assert.equal(await rule('revision:queue_reporting_pods:count', 'world-00001'), 1);
    near(await rule('revision:queue_requests_per_second:sum', 'hello-00001'), 30, 3 * RATE_TOLERANCE, 'hello requests per second');
    near(await rule('revision:queue_proxied_operations_per_second:sum', 'hello-00001'), 6, 3 * RATE_TOLERANCE, 'hello proxied per second');
    near(await rule('revision:queue_direct_requests_per_second:sum', 'hello-00001'), 24, 3 * RATE_TOLERANCE, 'hello direct per second');
    near(await rule('revision:queue_requests_per_second:sum', 'world-00001'), 10, RATE_TOLERANCE, 'world requests per second');
  });

  it('every Grafana panel returns the hello pods for namespace demo and revision hello-00001, and all four for All', async () => {
    const { panels, variables } = await dashboard();
    const options: Record<string, string[]> = {};
    for (const { name, definition } of variables) {
      const { match, label } = parseLabelValues(fillVariables(definition, options));
      options[name] = (await prometheus!.labelValues(label, match)).sort();
    }
    assert.deepEqual(options, { namespace: ['demo'], revision: ['hello-00001', 'world-00001'] });
    assert.equal(panels.length, 5);
    for (const { title, expr } of panels) {
      const one = await prometheus!.query(fillVariables(expr, { namespace: ['demo'], revision: ['hello-00001'] }));
      assert.deepEqual(one.map((s) => s.metric['destination_pod']).sort(), ['p1', 'p2', 'p3'], title);
      const all = await prometheus!.query(fillVariables(expr, options));
      assert.deepEqual(all.map((s) => s.metric['destination_pod']).sort(), ['p1', 'p2', 'p3', 'p4'], title);
    }
  });
});
