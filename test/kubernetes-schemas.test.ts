import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { ScaledObject, type IScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { PodMonitor, type IPodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Deployment, type IDeployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler, type IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { ConfigMap, Service, type IConfigMap, type IService } from 'kubernetes-models/v1';
import { configPath, loadYaml } from './helpers/otel-config.js';

/**
 * The maintained models of every kind otel-config/kubernetes/ ships, keyed by `apiVersion kind`.
 * Their `validate()` checks a document against the published OpenAPI schema (Kubernetes 1.27 for
 * the core kinds) or the project's CRD (KEDA, Prometheus Operator), as the API server would.
 */
const MODELS: Record<string, (doc: unknown) => { validate(): void }> = {
  'v1 ConfigMap': (doc) => new ConfigMap(doc as IConfigMap),
  'v1 Service': (doc) => new Service(doc as IService),
  'apps/v1 Deployment': (doc) => new Deployment(doc as IDeployment),
  'autoscaling/v2 HorizontalPodAutoscaler': (doc) => new HorizontalPodAutoscaler(doc as IHorizontalPodAutoscaler),
  'keda.sh/v1alpha1 ScaledObject': (doc) => new ScaledObject(doc as IScaledObject),
  'monitoring.coreos.com/v1 PodMonitor': (doc) => new PodMonitor(doc as IPodMonitor),
};

/** Validates one manifest against the schema of its kind; throws naming the first violation. */
function validate(doc: unknown): void {
  const { apiVersion, kind } = doc as { apiVersion?: string; kind?: string };
  const model = MODELS[`${apiVersion} ${kind}`];
  if (model === undefined) throw new Error(`no schema for apiVersion ${apiVersion}, kind ${kind}`);
  model(doc).validate();
}

/** Every document of every manifest in otel-config/kubernetes/, with its file name. */
async function manifests(): Promise<Array<{ file: string; doc: Record<string, unknown> }>> {
  const files = (await readdir(configPath('kubernetes'))).filter((f) => f.endsWith('.yaml')).sort();
  const all = await Promise.all(files.map(async (file) => (await loadYaml(configPath(`kubernetes/${file}`))).map((doc) => ({ file, doc }))));
  return all.flat() as Array<{ file: string; doc: Record<string, unknown> }>;
}

/**
 * The first shipped manifest of `kind`, copied, with the field at `path` set to `value`
 * (removed when `value` is undefined): the smallest edit that should make the schema fail.
 */
async function broken(kind: string, path: Array<string | number>, value: unknown): Promise<unknown> {
  const found = (await manifests()).find(({ doc }) => doc['kind'] === kind);
  assert.ok(found !== undefined, kind);
  const copy = structuredClone(found.doc);
  const parent = path.slice(0, -1).reduce<Record<string | number, unknown>>((node, key) => node[key] as Record<string | number, unknown>, copy);
  const last = path.at(-1)!;
  if (value === undefined) delete parent[last];
  else parent[last] = value;
  return copy;
}

describe('otel-config/kubernetes/ against the official schemas', () => {
  it('holds the six documents of the recipes, each a kind we validate', async () => {
    const kinds = (await manifests()).map(({ file, doc }) => `${file}: ${String(doc['apiVersion'])} ${String(doc['kind'])}`);
    assert.deepEqual(kinds, [
      'deployment.yaml: apps/v1 Deployment',
      'hpa-prometheus-adapter.yaml: v1 ConfigMap',
      'hpa-prometheus-adapter.yaml: autoscaling/v2 HorizontalPodAutoscaler',
      'keda-scaledobject.yaml: keda.sh/v1alpha1 ScaledObject',
      'podmonitor.yaml: monitoring.coreos.com/v1 PodMonitor',
      'service.yaml: v1 Service',
    ]);
  });

  it('every document passes its schema', async () => {
    for (const { file, doc } of await manifests()) assert.doesNotThrow(() => validate(doc), `${file} ${String(doc['kind'])}`);
  });
});

describe('the schema validation rejects broken manifests', () => {
  const CONTAINERS = ['spec', 'template', 'spec', 'containers'];

  it('a container port given as a string', async () => {
    const doc = await broken('Deployment', [...CONTAINERS, 1, 'ports', 1, 'containerPort'], '9090');
    assert.throws(() => validate(doc), /containers\/1\/ports\/1\/containerPort must be integer/);
  });

  it('a container without a name', async () => {
    const doc = await broken('Deployment', [...CONTAINERS, 0, 'name'], undefined);
    assert.throws(() => validate(doc), /containers\/0 must have required property name/);
  });

  it('an HPA without maxReplicas', async () => {
    const doc = await broken('HorizontalPodAutoscaler', ['spec', 'maxReplicas'], undefined);
    assert.throws(() => validate(doc), /spec must have required property maxReplicas/);
  });

  it('a KEDA threshold written as a YAML number (trigger metadata is a map of strings)', async () => {
    const doc = await broken('ScaledObject', ['spec', 'triggers', 0, 'metadata', 'threshold'], 10);
    assert.throws(() => validate(doc), /triggers\/0\/metadata\/threshold must be string/);
  });

  it('a PodMonitor interval that is not a Prometheus duration', async () => {
    const doc = await broken('PodMonitor', ['spec', 'podMetricsEndpoints', 0, 'interval'], '5 seconds');
    assert.throws(() => validate(doc), /podMetricsEndpoints\/0\/interval must match pattern/);
  });

  it('a kind it has no schema for', async () => {
    const doc = await broken('Service', ['apiVersion'], 'v2');
    assert.throws(() => validate(doc), /no schema for apiVersion v2, kind Service/);
  });
});
