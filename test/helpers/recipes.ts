import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { configPath, loadOne, loadYaml, parseYaml } from './otel-config.js';

/** The Prometheus trigger of keda-scaledobject.yaml: its query and its AverageValue threshold. */
export async function kedaTrigger(): Promise<{ query: string; threshold: number }> {
  const scaled = await loadOne<{ spec: { triggers: Array<{ metricType: string; metadata: { query: string; threshold: string } }> } }>('kubernetes/keda-scaledobject.yaml');
  const [trigger] = scaled.spec.triggers;
  assert.equal(trigger?.metricType, 'AverageValue');
  return { query: trigger.metadata.query, threshold: Number(trigger.metadata.threshold) };
}

/** The prometheus-adapter rule's metricsQuery template and the HPA's AverageValue target, from hpa-prometheus-adapter.yaml. */
export async function adapterRecipe(): Promise<{ metricsQuery: string; target: number }> {
  const [configMap, hpa] = (await loadYaml(configPath('kubernetes/hpa-prometheus-adapter.yaml'))) as [
    { data: Record<string, string> },
    { spec: { metrics: Array<{ pods: { target: { type: string; averageValue: string } } }> } },
  ];
  const [adapter] = parseYaml(configMap.data['config.yaml'] ?? '', 'adapter config.yaml') as [{ rules: Array<{ metricsQuery: string }> }];
  const target = hpa.spec.metrics[0]!.pods.target;
  assert.equal(target.type, 'AverageValue');
  return { metricsQuery: adapter.rules[0]!.metricsQuery, target: Number(target.averageValue) };
}

/**
 * The query prometheus-adapter sends for a custom-metrics request on pods: `<<.LabelMatchers>>`
 * becomes the namespace and the pods asked for, `<<.GroupBy>>` the pod label (its
 * `resources.overrides` map the `namespace` and `pod` labels to those resources).
 */
export function expandMetricsQuery(template: string, namespace: string, pods: readonly string[]): string {
  const matchers = `namespace="${namespace}",pod=~"${pods.join('|')}"`;
  return template.replaceAll('<<.LabelMatchers>>', matchers).replaceAll('<<.GroupBy>>', 'pod');
}

/**
 * The HPA controller's replica count (kubernetes pkg/controller/podautoscaler/replica_calculator.go):
 * `ceil(currentReplicas * ratio)`, where `ratio` is the metric over its target, left alone while
 * the ratio is within the default tolerance of 0.1 of 1. For a Pods metric `ratio` is the pods'
 * average over the AverageValue target; for KEDA's AverageValue external metric it is the query's
 * total over `target * currentReplicas`, which makes the result `ceil(total / target)`.
 */
export function desiredReplicas(currentReplicas: number, ratio: number): number {
  return Math.abs(ratio - 1) <= 0.1 ? currentReplicas : Math.ceil(currentReplicas * ratio);
}

/** Every panel query of grafana-dashboard.json and the label_values() query of each variable. */
export async function dashboard(): Promise<{ panels: Array<{ title: string; expr: string }>; variables: Array<{ name: string; definition: string }> }> {
  const json = JSON.parse(await readFile(configPath('grafana-dashboard.json'), 'utf8')) as {
    templating: { list: Array<{ name: string; type: string; definition?: string }> };
    panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
  };
  return {
    panels: json.panels.flatMap((p) => p.targets.map((t) => ({ title: p.title, expr: t.expr }))),
    variables: json.templating.list.filter((v) => v.type === 'query').map((v) => ({ name: v.name, definition: v.definition ?? '' })),
  };
}

/**
 * `expr` with each `$name` replaced as Grafana does for a Prometheus regex matcher: one value
 * regex-escaped, several as `(a|b)`.
 */
export function fillVariables(expr: string, values: Record<string, readonly string[]>): string {
  return expr.replace(/\$(\w+)/g, (whole, name: string) => {
    const chosen = values[name];
    if (chosen === undefined) return whole;
    const escaped = chosen.map((v) => v.replace(/[\\^$*+?.()|[\]{}]/g, '\\$&'));
    return escaped.length === 1 ? escaped[0]! : `(${escaped.join('|')})`;
  });
}

/** The metric selector and label of a `label_values(selector, label)` variable query. */
export function parseLabelValues(definition: string): { match: string; label: string } {
  const parsed = /^label_values\((.+),\s*(\w+)\)$/.exec(definition);
  assert.ok(parsed !== null, definition);
  return { match: parsed[1]!, label: parsed[2]! };
}
