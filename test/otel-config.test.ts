import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { stringify } from 'yaml';
import { parseConfig } from '../src/cli/config.js';
import { DEFAULTS } from '../src/core/defaults.js';
import { LABEL, METRIC } from '../src/core/metric-names.js';
import { WAIT_FOR_DRAIN_PATH } from '../src/proxy/admin/admin-server.js';
import { withFileDiscovery, type PromConfig, type ScrapeConfig } from './helpers/kubernetes-sd.js';
import { configPath, loadOne, loadYaml, parseYaml, ROOT } from './helpers/otel-config.js';

const METRIC_NAMES = Object.values(METRIC);
const SERVING_PORT = 8012;
const METRICS_PORT = 9090;
const METRICS_PORT_NAME = 'http-autometric';

interface RunResult {
  /** Exit code; -1 when the program could not be started. */
  code: number;
  output: string;
}

/** Runs a program to completion (30 s at most) and returns its exit code and stdout+stderr. */
function run(program: string, args: readonly string[]): Promise<RunResult> {
  return new Promise((done) => {
    execFile(program, args, { timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      done({ code, output: `${stdout}${stderr}` });
    });
  });
}

const PROMTOOL_SKIP = (await run('promtool', ['--version'])).code === 0 ? false : 'promtool not found; install it with `apt-get install -y prometheus`';

const K8S_SD_MISSING = /field kubernetes_sd_configs not found/;

/**
 * `promtool check config` on a Prometheus configuration file. Debian's promtool
 * is built without Kubernetes discovery and rejects `kubernetes_sd_configs`;
 * then the check runs again on a copy whose Kubernetes blocks are swapped for
 * an empty file discovery (rule files resolved against the original), so
 * promtool still validates the relabelling, the rules and everything else.
 */
async function promtoolCheckConfig(t: TestContext, path: string): Promise<void> {
  const direct = await run('promtool', ['check', 'config', path]);
  if (direct.code === 0) return;
  assert.match(direct.output, K8S_SD_MISSING, direct.output);
  t.diagnostic('this promtool lacks Kubernetes discovery; checked with kubernetes_sd_configs swapped for file_sd_configs');
  const [config] = (await loadYaml(path)) as [PromConfig];
  const dir = await mkdtemp(join(tmpdir(), 'otel-config-'));
  try {
    const podsFile = join(dir, 'pods.json');
    await writeFile(podsFile, '[]\n');
    const swapped = withFileDiscovery(config, path, podsFile);
    const copy = join(dir, 'prometheus.yml');
    await writeFile(copy, stringify(swapped));
    const checked = await run('promtool', ['check', 'config', copy]);
    assert.equal(checked.code, 0, checked.output);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Asserts the scrape job keeps only the sidecar's metrics port of discovered pods and labels series with namespace and pod. */
function assertPodScrapeJob(job: ScrapeConfig): void {
  assert.deepEqual(job.kubernetes_sd_configs, [{ role: 'pod' }]);
  assert.equal(job.metrics_path, '/metrics');
  const relabel = job.relabel_configs ?? [];
  assert.deepEqual(relabel[0], {
    source_labels: ['__meta_kubernetes_pod_container_port_name'],
    regex: METRICS_PORT_NAME,
    action: 'keep',
  });
  const copies = Object.fromEntries(relabel.filter((r) => r.target_label !== undefined).map((r) => [String(r.target_label), r.source_labels]));
  assert.deepEqual(copies['namespace'], ['__meta_kubernetes_namespace']);
  assert.deepEqual(copies['pod'], ['__meta_kubernetes_pod_name']);
}

interface Collector {
  extensions?: Record<string, unknown>;
  receivers: {
    otlp: { protocols: { grpc: { endpoint: string }; http: { endpoint: string } } };
    prometheus: { config: PromConfig };
  };
  processors: { memory_limiter: { check_interval: string; limit_percentage?: number; limit_mib?: number }; batch: Record<string, unknown> };
  exporters: { prometheusremotewrite: { endpoint: string; tls?: { insecure?: boolean } }; debug: { verbosity?: string } };
  service: {
    extensions?: string[];
    pipelines: Record<string, { receivers: string[]; processors: string[]; exporters: string[] }>;
  };
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string } };
}

interface Container {
  name: string;
  image: string;
  ports?: { name: string; containerPort: number }[];
  env?: EnvVar[];
  readinessProbe?: { httpGet?: { path?: string; port: string | number; httpHeaders?: { name: string; value: string }[] } };
  lifecycle?: { preStop?: { httpGet?: { path: string; port: number } } };
  securityContext?: { runAsUser?: number; runAsNonRoot?: boolean; allowPrivilegeEscalation?: boolean };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}

interface Deployment {
  metadata: { name: string; namespace: string };
  spec: {
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string> };
      spec: { securityContext?: { runAsNonRoot?: boolean }; terminationGracePeriodSeconds?: number; containers: Container[] };
    };
  };
}

const deployment = await loadOne<Deployment>('kubernetes/deployment.yaml');
const podLabels = deployment.spec.template.metadata.labels;
const sidecar = deployment.spec.template.spec.containers.find((c) => c.ports?.some((p) => p.containerPort === SERVING_PORT));

/** The sidecar's container port number for a port given by name or number. */
function sidecarPort(port: string | number): number | undefined {
  return typeof port === 'number' ? port : sidecar?.ports?.find((p) => p.name === port)?.containerPort;
}

/** True when every label of the selector is on the pod template. */
function selectsPods(matchLabels: Record<string, string>): boolean {
  return Object.entries(matchLabels).every(([key, value]) => podLabels[key] === value);
}

/** The Prometheus expression computing direct (non-proxied) concurrency must use both concurrency gauges. */
function assertDirectConcurrency(query: string): void {
  assert.ok(query.includes(METRIC.averageConcurrentRequests), query);
  assert.ok(query.includes(METRIC.averageProxiedConcurrentRequests), query);
  assert.match(query, /queue_average_concurrent_requests\{[^}]*\}\s*-\s*queue_average_proxied_concurrent_requests/);
}

describe('promtool accepts the Prometheus files', { skip: PROMTOOL_SKIP }, () => {
  it('prometheus.yml passes promtool check config (with rules.yml)', async (t) => {
    await promtoolCheckConfig(t, configPath('prometheus.yml'));
  });

  it('prometheus-local.yml passes promtool check config (with rules.yml)', async (t) => {
    await promtoolCheckConfig(t, configPath('prometheus-local.yml'));
  });

  it("the collector's prometheus receiver config passes promtool check config", async (t) => {
    const collector = await loadOne<Collector>('collector.yaml');
    const dir = await mkdtemp(join(tmpdir(), 'otel-config-'));
    try {
      const path = join(dir, 'receiver.yml');
      await writeFile(path, stringify(collector.receivers.prometheus.config));
      await promtoolCheckConfig(t, path);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rules.yml passes promtool check rules', async () => {
    const result = await run('promtool', ['check', 'rules', configPath('rules.yml')]);
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /SUCCESS: 6 rules found/);
  });

  it('rules.test.yml passes promtool test rules', async () => {
    const result = await run('promtool', ['test', 'rules', configPath('rules.test.yml')]);
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /SUCCESS/);
  });
});

describe('Prometheus scrape configs', () => {
  it('prometheus.yml discovers pods, keeps the metrics port and loads rules.yml', async () => {
    const config = await loadOne<PromConfig>('prometheus.yml');
    assert.deepEqual(config.rule_files, ['rules.yml']);
    assert.equal(config.scrape_configs.length, 1);
    assertPodScrapeJob(config.scrape_configs[0]!);
  });

  it('prometheus-local.yml scrapes the demo on 127.0.0.1:9090 and loads rules.yml', async () => {
    const config = await loadOne<PromConfig>('prometheus-local.yml');
    assert.deepEqual(config.rule_files, ['rules.yml']);
    assert.deepEqual(
      config.scrape_configs.map((job) => job.static_configs?.map((s) => s.targets)),
      [[[`127.0.0.1:${METRICS_PORT}`]]],
    );
  });
});

describe('rules.yml', () => {
  interface Rules {
    groups: { name: string; rules: { record: string; expr: string }[] }[];
  }
  interface RuleTests {
    rule_files: string[];
    tests: { promql_expr_test: { expr: string }[] }[];
  }

  it('records direct concurrency per revision as total minus proxied', async () => {
    const rules = (await loadOne<Rules>('rules.yml')).groups.flatMap((g) => g.rules);
    const direct = rules.find((r) => r.record === 'revision:queue_direct_concurrent_requests:sum');
    assert.ok(direct !== undefined);
    assert.match(direct.expr, new RegExp(`sum by \\(${LABEL.namespace}, ${LABEL.revision}\\)`));
    assert.match(direct.expr, /queue_average_concurrent_requests\s*-\s*queue_average_proxied_concurrent_requests/);
  });

  it('rules.test.yml loads rules.yml and tests every recorded series', async () => {
    const rules = (await loadOne<Rules>('rules.yml')).groups.flatMap((g) => g.rules.map((r) => r.record));
    const tests = await loadOne<RuleTests>('rules.test.yml');
    assert.deepEqual(tests.rule_files, ['rules.yml']);
    const tested = new Set(tests.tests.flatMap((t) => t.promql_expr_test.map((e) => e.expr)));
    assert.deepEqual(
      rules.filter((record) => !tested.has(record)),
      [],
    );
  });
});

describe('collector.yaml', () => {
  it('receives OTLP over gRPC (4317) and HTTP (4318)', async () => {
    const { otlp } = (await loadOne<Collector>('collector.yaml')).receivers;
    assert.match(otlp.protocols.grpc.endpoint, /:4317$/);
    assert.match(otlp.protocols.http.endpoint, /:4318$/);
  });

  it('scrapes the sidecar metrics port of discovered pods', async () => {
    const { prometheus } = (await loadOne<Collector>('collector.yaml')).receivers;
    assert.equal(prometheus.config.scrape_configs.length, 1);
    assertPodScrapeJob(prometheus.config.scrape_configs[0]!);
  });

  it('has no bare $ in the scrape config (the collector reads $ as an environment reference)', async () => {
    const { prometheus } = (await loadOne<Collector>('collector.yaml')).receivers;
    assert.doesNotMatch(stringify(prometheus.config), /\$(?!\$|\{env:)/);
  });

  it('limits memory, batches, and exports by remote write and debug', async () => {
    const { processors, exporters } = await loadOne<Collector>('collector.yaml');
    assert.ok(processors.memory_limiter.check_interval !== '');
    assert.ok((processors.memory_limiter.limit_percentage ?? processors.memory_limiter.limit_mib ?? 0) > 0);
    assert.ok(processors.batch !== undefined);
    assert.match(exporters.prometheusremotewrite.endpoint, /^http:\/\/.+\/api\/v1\/write$/);
    assert.equal(exporters.prometheusremotewrite.tls?.insecure, true, 'an http:// endpoint needs tls.insecure');
    assert.ok(['basic', 'normal', 'detailed'].includes(exporters.debug.verbosity ?? 'basic'));
  });

  it('wires one metrics pipeline: both receivers, memory_limiter first, both exporters', async () => {
    const collector = await loadOne<Collector>('collector.yaml');
    assert.deepEqual(collector.service.pipelines, {
      metrics: {
        receivers: ['otlp', 'prometheus'],
        processors: ['memory_limiter', 'batch'],
        exporters: ['prometheusremotewrite', 'debug'],
      },
    });
    assert.deepEqual(collector.service.extensions ?? [], Object.keys(collector.extensions ?? {}));
  });
});

describe('kubernetes/deployment.yaml', () => {
  const env = (name: string): EnvVar | undefined => sidecar?.env?.find((e) => e.name === name);

  it('runs the sidecar with the serving port 8012 (http), metrics ports 9090 (http-autometric) and 9091 (http-usermetric), admin port 8022', () => {
    assert.ok(sidecar !== undefined, 'no container with port 8012');
    assert.deepEqual(sidecar.ports, [
      { name: 'http', containerPort: SERVING_PORT, protocol: 'TCP' },
      { name: METRICS_PORT_NAME, containerPort: METRICS_PORT, protocol: 'TCP' },
      { name: 'http-usermetric', containerPort: DEFAULTS.requestMetricsPort, protocol: 'TCP' },
      { name: 'http-queueadm', containerPort: DEFAULTS.adminPort, protocol: 'TCP' },
    ]);
    assert.equal(deployment.spec.template.spec.containers.length, 2, 'app and sidecar');
    assert.ok(selectsPods(deployment.spec.selector.matchLabels));
  });

  it('takes namespace and pod name from the downward API', () => {
    assert.deepEqual(env('SERVING_NAMESPACE')?.valueFrom, { fieldRef: { fieldPath: 'metadata.namespace' } });
    assert.deepEqual(env('SERVING_POD')?.valueFrom, { fieldRef: { fieldPath: 'metadata.name' } });
  });

  it('sets every variable the sidecar reads', () => {
    const names = [
      'SERVING_NAMESPACE',
      'SERVING_CONFIGURATION',
      'SERVING_REVISION',
      'SERVING_POD',
      'USER_PORT',
      'QUEUE_SERVING_PORT',
      'REVISION_TIMEOUT_SECONDS',
      'SERVING_READINESS_PROBE',
      'QUEUE_STATS_DRAIN_QUIET_PERIOD',
      'QUEUE_STATS_DRAIN_TIMEOUT',
      'OTEL_SERVICE_NAME',
      'OTEL_RESOURCE_ATTRIBUTES',
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      'OTEL_METRICS_EXPORTER',
      'OTEL_METRIC_EXPORT_INTERVAL',
    ];
    assert.deepEqual(
      names.filter((name) => env(name) === undefined),
      [],
    );
    assert.equal(env('QUEUE_SERVING_PORT')?.value, String(SERVING_PORT));
    assert.equal(env('OTEL_METRICS_EXPORTER')?.value, 'prometheus');
  });

  it("probes readiness as Knative's queue-proxy probe does: a network probe the sidecar answers from the app's probe", () => {
    const probe = sidecar?.readinessProbe?.httpGet;
    assert.ok(probe !== undefined);
    assert.equal(sidecarPort(probe.port), SERVING_PORT);
    assert.deepEqual(probe.httpHeaders, [{ name: 'K-Network-Probe', value: 'queue' }]);
  });

  it("holds the app in a preStop hook on the sidecar's /wait-for-drain, and the grace period covers the drain", () => {
    const app = deployment.spec.template.spec.containers.find((c) => c !== sidecar);
    assert.deepEqual(app?.lifecycle?.preStop?.httpGet, { port: DEFAULTS.adminPort, path: WAIT_FOR_DRAIN_PATH });
    const literal = Object.fromEntries((sidecar?.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value]));
    const names = { SERVING_NAMESPACE: 'demo', SERVING_POD: 'hello-1', SERVING_CONFIGURATION: 'hello', SERVING_REVISION: 'abc' };
    const config = parseConfig([], { ...literal, ...names }, 'h');
    assert.equal(config.readinessProbe?.periodMs, 0, 'the app probe runs aggressively');
    assert.ok(config.drainQuietPeriodMs <= config.drainTimeoutMs);
    // The quiet period (bounded by the drain timeout), the close (the drain timeout for requests, the upgrade bound for
    // tunnels), the last OTLP export (10 s).
    const OTLP_EXPORT_TIMEOUT_S = 10;
    const drainMs = config.drainTimeoutMs + Math.max(config.drainTimeoutMs, config.upgradeDrainTimeoutMs);
    assert.equal(deployment.spec.template.spec.terminationGracePeriodSeconds, drainMs / 1000 + OTLP_EXPORT_TIMEOUT_S);
  });

  it('runs as non-root with resources on every container', () => {
    const pod = deployment.spec.template.spec;
    assert.equal(pod.securityContext?.runAsNonRoot, true);
    for (const container of pod.containers) {
      assert.ok((container.securityContext?.runAsUser ?? 0) > 0, `${container.name} runAsUser`);
      assert.equal(container.securityContext?.allowPrivilegeEscalation, false, container.name);
      assert.ok(container.resources?.requests?.['cpu'] !== undefined, `${container.name} cpu request`);
      assert.ok(container.resources?.limits?.['memory'] !== undefined, `${container.name} memory limit`);
    }
  });
});

describe('kubernetes/service.yaml and podmonitor.yaml', () => {
  interface Service {
    metadata: { namespace: string };
    spec: { selector: Record<string, string>; ports: { port: number; targetPort: string | number }[] };
  }
  interface PodMonitor {
    spec: { selector: { matchLabels: Record<string, string> }; podMetricsEndpoints: { port: string; path: string }[] };
  }

  it('the Service sends its traffic to the sidecar on 8012', async () => {
    const service = await loadOne<Service>('kubernetes/service.yaml');
    assert.equal(service.metadata.namespace, deployment.metadata.namespace);
    assert.ok(selectsPods(service.spec.selector));
    assert.deepEqual(
      service.spec.ports.map((p) => sidecarPort(p.targetPort)),
      [SERVING_PORT],
    );
  });

  it('the PodMonitor scrapes /metrics on the 9090 and 9091 ports of the Deployment’s pods', async () => {
    const monitor = await loadOne<PodMonitor>('kubernetes/podmonitor.yaml');
    assert.ok(selectsPods(monitor.spec.selector.matchLabels));
    assert.deepEqual(
      monitor.spec.podMetricsEndpoints.map((e) => [sidecarPort(e.port), e.path]),
      [
        [METRICS_PORT, '/metrics'],
        [DEFAULTS.requestMetricsPort, '/metrics'],
      ],
    );
  });
});

describe('kubernetes autoscaling examples', () => {
  interface AdapterConfig {
    rules: {
      seriesQuery: string;
      resources: { overrides: Record<string, { resource: string }> };
      name: { matches: string; as: string };
      metricsQuery: string;
    }[];
  }
  interface Hpa {
    spec: {
      scaleTargetRef: { apiVersion: string; kind: string; name: string };
      metrics: { type: string; pods: { metric: { name: string }; target: { type: string; averageValue: string } } }[];
    };
  }
  interface ScaledObject {
    spec: {
      scaleTargetRef: { name: string };
      triggers: { type: string; metricType?: string; metadata: Record<string, unknown> }[];
    };
  }

  it('prometheus-adapter publishes direct concurrency per pod under the name the HPA asks for', async () => {
    const docs = await loadYaml(configPath('kubernetes/hpa-prometheus-adapter.yaml'));
    assert.equal(docs.length, 2);
    const configMap = docs[0] as { data: Record<string, string> };
    const hpa = docs[1] as Hpa;
    const [adapter, ...more] = parseYaml(configMap.data['config.yaml'] ?? '', 'adapter config.yaml') as AdapterConfig[];
    assert.equal(more.length, 0);
    assert.ok(adapter !== undefined);
    assert.equal(adapter.rules.length, 1);
    const rule = adapter.rules[0]!;
    assert.ok(rule.seriesQuery.startsWith(METRIC.averageConcurrentRequests));
    assert.deepEqual(rule.resources.overrides, { namespace: { resource: 'namespace' }, pod: { resource: 'pod' } });
    assertDirectConcurrency(rule.metricsQuery);
    assert.match(rule.metricsQuery, /<<\.LabelMatchers>>/);
    assert.match(rule.metricsQuery, /<<\.GroupBy>>/);

    assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name });
    assert.equal(hpa.spec.metrics.length, 1);
    const metric = hpa.spec.metrics[0]!;
    assert.equal(metric.type, 'Pods');
    assert.equal(metric.pods.metric.name, 'queue_direct_concurrent_requests');
    assert.equal(metric.pods.metric.name, rule.name.as);
    assert.equal(metric.pods.target.type, 'AverageValue');
  });

  it('the KEDA ScaledObject scales the Deployment on the same expression', async () => {
    const scaled = await loadOne<ScaledObject>('kubernetes/keda-scaledobject.yaml');
    assert.equal(scaled.spec.scaleTargetRef.name, deployment.metadata.name);
    assert.equal(scaled.spec.triggers.length, 1);
    const trigger = scaled.spec.triggers[0]!;
    assert.equal(trigger.type, 'prometheus');
    assert.equal(trigger.metricType, 'AverageValue');
    const { serverAddress, query, threshold } = trigger.metadata;
    assert.match(String(serverAddress), /^http:\/\//);
    assertDirectConcurrency(String(query));
    // The sidecar's destination_configuration is the pod's app.kubernetes.io/name label.
    const configuration = sidecar?.env?.find((e) => e.name === 'SERVING_CONFIGURATION')?.valueFrom?.fieldRef?.fieldPath;
    assert.equal(configuration, "metadata.labels['app.kubernetes.io/name']");
    assert.ok(String(query).includes(`${LABEL.configuration}="${podLabels['app.kubernetes.io/name']}"`), String(query));
    assert.ok(String(query).includes(`${LABEL.namespace}="${deployment.metadata.namespace}"`), String(query));
    assert.ok(Number(threshold) > 0);
  });
});

describe('Dockerfile', () => {
  /** Instructions of a Dockerfile as [KEYWORD, arguments], comments dropped and continuation lines joined. */
  async function instructions(): Promise<[string, string][]> {
    const text = (await readFile(configPath('Dockerfile'), 'utf8')).replace(/\\\n/g, ' ');
    return text
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((line) => {
        const [keyword = '', ...rest] = line.split(/\s+/);
        return [keyword.toUpperCase(), rest.join(' ')];
      });
  }

  it('builds in one stage and runs in another, from a small base of the newest Node line CI tests', async () => {
    const steps = await instructions();
    const from = steps.filter(([k]) => k === 'FROM').map(([, args]) => args);
    assert.equal(from.length, 2);
    const image = steps.find(([k, args]) => k === 'ARG' && args.startsWith('NODE_IMAGE='))?.[1];
    const lines = JSON.parse(await readFile(`${ROOT}scripts/node-lines/package.json`, 'utf8')) as { dependencies: Record<string, string> };
    const newest = Math.max(...Object.keys(lines.dependencies).map((name) => Number(name.replace('node', ''))));
    assert.equal(newest, 24);
    assert.equal(image, `NODE_IMAGE=node:${newest}-alpine`);
    assert.ok(steps.some(([k, args]) => k === 'RUN' && args.includes('npm run build')));
  });

  it('installs only production dependencies, without lifecycle scripts, in the runtime stage', async () => {
    const steps = await instructions();
    const runtime = steps.slice(steps.map(([k]) => k).lastIndexOf('FROM'));
    const install = runtime.find(([k, args]) => k === 'RUN' && args.includes('npm ci'))?.[1] ?? '';
    assert.match(install, /--omit=dev/);
    assert.match(install, /--ignore-scripts/);
  });

  it('runs as a non-root user, exposes 8012, 9090 and 8022, and starts the CLI', async () => {
    const steps = await instructions();
    const user = steps.filter(([k]) => k === 'USER').at(-1)?.[1] ?? 'root';
    assert.doesNotMatch(user, /^(root|0)(:|$)/);
    const exposed = steps.filter(([k]) => k === 'EXPOSE').flatMap(([, args]) => args.split(/\s+/));
    assert.deepEqual(exposed.sort(), [String(SERVING_PORT), String(DEFAULTS.adminPort), String(METRICS_PORT)]);
    const entrypoint = JSON.parse(steps.find(([k]) => k === 'ENTRYPOINT')?.[1] ?? '[]') as string[];
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    // The young-generation cap must be given at start-up (see BENCHMARKS.md).
    assert.deepEqual(entrypoint, ['node', '--max-semi-space-size=4', '--liftoff-only', '--no-maglev', '--expose-gc', pkg.bin['queue-stats']]);
  });
});

describe('grafana-dashboard.json', () => {
  interface Dashboard {
    templating: { list: { name: string; type: string }[] };
    panels: { title: string; targets: { expr: string }[] }[];
  }

  it('has one panel per gauge, filtered by the namespace and revision variables', async () => {
    const dashboard = JSON.parse(await readFile(configPath('grafana-dashboard.json'), 'utf8')) as Dashboard;
    assert.deepEqual(
      dashboard.templating.list.map((v) => v.name),
      ['datasource', 'namespace', 'revision'],
    );
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
    assert.equal(exprs.length, METRIC_NAMES.length);
    for (const name of METRIC_NAMES) {
      assert.equal(exprs.filter((e) => e.startsWith(`${name}{`)).length, 1, name);
    }
    for (const expr of exprs) {
      assert.ok(expr.includes(`${LABEL.namespace}=~"$namespace"`), expr);
      assert.ok(expr.includes(`${LABEL.revision}=~"$revision"`), expr);
    }
  });
});
