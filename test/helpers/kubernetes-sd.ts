import { dirname, resolve } from 'node:path';

/** A Prometheus configuration, as far as the tests read or rewrite it. */
export interface PromConfig {
  global?: Record<string, string>;
  rule_files?: string[];
  scrape_configs: ScrapeConfig[];
}

/** One scrape job of a {@link PromConfig}. */
export interface ScrapeConfig {
  job_name: string;
  scrape_interval?: string;
  metrics_path?: string;
  kubernetes_sd_configs?: { role: string }[];
  file_sd_configs?: { files: string[] }[];
  static_configs?: { targets: string[]; labels?: Record<string, string> }[];
  relabel_configs?: { source_labels?: string[]; regex?: string; action?: string; target_label?: string }[];
}

/**
 * A copy of `config` (read from `configPath`) that runs without Kubernetes: every
 * `kubernetes_sd_configs` block becomes file discovery reading `targetsFile`, and rule files are
 * resolved against the original's folder. Debian's Prometheus and promtool are built without
 * Kubernetes discovery; relabelling is left exactly as shipped, so a targets file carrying the
 * `__meta_kubernetes_*` labels exercises the shipped rules.
 */
export function withFileDiscovery(config: PromConfig, configPath: string, targetsFile: string): PromConfig {
  return {
    ...config,
    rule_files: (config.rule_files ?? []).map((file) => resolve(dirname(configPath), file)),
    scrape_configs: config.scrape_configs.map(({ kubernetes_sd_configs, ...rest }) => (kubernetes_sd_configs === undefined ? rest : { ...rest, file_sd_configs: [{ files: [targetsFile] }] })),
  };
}

/** One container port of a pod, as Kubernetes pod discovery (`role: pod`) reports it. */
export interface DiscoveredPort {
  /** host:port Prometheus scrapes (the pod IP and container port in a cluster). */
  address: string;
  namespace: string;
  pod: string;
  container: string;
  portName: string;
  /** The pod's phase: Running, Pending, Succeeded or Failed. */
  phase: string;
}

/**
 * File-discovery target groups that carry, for each port, the meta labels Prometheus's pod
 * discovery sets (https://prometheus.io/docs/prometheus/latest/configuration/configuration/#pod).
 */
export function podTargetGroups(ports: readonly DiscoveredPort[]): Array<{ targets: string[]; labels: Record<string, string> }> {
  return ports.map((p) => ({
    targets: [p.address],
    labels: {
      __meta_kubernetes_namespace: p.namespace,
      __meta_kubernetes_pod_name: p.pod,
      __meta_kubernetes_pod_container_name: p.container,
      __meta_kubernetes_pod_container_port_name: p.portName,
      __meta_kubernetes_pod_container_port_number: p.address.split(':').at(-1)!,
      __meta_kubernetes_pod_container_port_protocol: 'TCP',
      __meta_kubernetes_pod_phase: p.phase,
      __meta_kubernetes_pod_ip: p.address.split(':')[0]!,
    },
  }));
}
