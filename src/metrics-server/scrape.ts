import type { Attributes } from '@opentelemetry/api';
import type { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { DataPointType, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { LABEL, METRIC } from '../core/metric-names.js';
import type { Stat } from './stat-proto.js';

/**
 * One collection of the metrics, rendered on demand in the formats that
 * `/metrics` serves. Both renderings come from the same collection, so the
 * text and protobuf answers agree at any moment. Each is computed at most once.
 */
export class Scrape {
  private text: string | undefined;
  private protobuf: Promise<Uint8Array> | undefined;

  /**
   * @param resourceMetrics - what the reader collected
   * @param serializer - the Prometheus text serializer configured for this server
   */
  constructor(
    private readonly resourceMetrics: ResourceMetrics,
    private readonly serializer: PrometheusSerializer,
  ) {}

  /** The Prometheus text exposition (format 0.0.4). */
  toText(): string {
    this.text ??= this.serializer.serialize(this.resourceMetrics);
    return this.text;
  }

  /**
   * Knative's protobuf `Stat`, built from the first series of each gauge. The
   * encoding (protobufjs) is loaded at the first protobuf scrape, so a server
   * scraped only for text never loads it.
   */
  toProtobuf(): Promise<Uint8Array> {
    this.protobuf ??= import('./stat-proto.js').then(({ encodeStat }) => encodeStat(this.toStat()));
    return this.protobuf;
  }

  /** The values of the first series of each Knative gauge; zeros and an empty pod when absent. */
  toStat(): Stat {
    const stat: Stat = {
      podName: '',
      averageConcurrentRequests: 0,
      averageProxiedConcurrentRequests: 0,
      requestCount: 0,
      proxiedRequestCount: 0,
      processUptime: 0,
    };
    for (const scope of this.resourceMetrics.scopeMetrics) {
      for (const metric of scope.metrics) {
        if (metric.dataPointType !== DataPointType.GAUGE) continue;
        const point = metric.dataPoints[0];
        if (point === undefined) continue;
        const value = point.value;
        switch (metric.descriptor.name) {
          case METRIC.averageConcurrentRequests:
            stat.averageConcurrentRequests = value;
            stat.podName = podOf(point.attributes, stat.podName);
            break;
          case METRIC.averageProxiedConcurrentRequests:
            stat.averageProxiedConcurrentRequests = value;
            break;
          case METRIC.requestsPerSecond:
            stat.requestCount = value;
            break;
          case METRIC.proxiedOperationsPerSecond:
            stat.proxiedRequestCount = value;
            break;
          case METRIC.processUptime:
            stat.processUptime = value;
            break;
        }
      }
    }
    return stat;
  }
}

function podOf(attributes: Attributes, fallback: string): string {
  const pod = attributes[LABEL.pod];
  return typeof pod === 'string' ? pod : fallback;
}
