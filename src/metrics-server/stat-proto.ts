import protobuf from 'protobufjs/light.js';

/**
 * Knative's autoscaler `Stat` message (knative/serving
 * pkg/autoscaler/metrics/stat.proto, package `metrics`), which v0.17+
 * autoscalers ask the queue-proxy for with `Accept: application/protobuf`.
 * Rates and concurrencies are per second / averages of the last window.
 */
export interface Stat {
  /** Field 1: the pod the values are from. */
  podName: string;
  /** Field 2: average concurrency over the last window. */
  averageConcurrentRequests: number;
  /** Field 3: average proxied concurrency over the last window. */
  averageProxiedConcurrentRequests: number;
  /** Field 4: requests per second in the last window. */
  requestCount: number;
  /** Field 5: proxied requests per second in the last window. */
  proxiedRequestCount: number;
  /** Field 6: seconds the process has been up. */
  processUptime: number;
  /** Field 7: Unix time in seconds; this server leaves it unset, so it decodes as 0. */
  timestamp?: number;
}

const StatType = new protobuf.Type('Stat')
  .add(new protobuf.Field('podName', 1, 'string'))
  .add(new protobuf.Field('averageConcurrentRequests', 2, 'double'))
  .add(new protobuf.Field('averageProxiedConcurrentRequests', 3, 'double'))
  .add(new protobuf.Field('requestCount', 4, 'double'))
  .add(new protobuf.Field('proxiedRequestCount', 5, 'double'))
  .add(new protobuf.Field('processUptime', 6, 'double'))
  .add(new protobuf.Field('timestamp', 7, 'int64'));
new protobuf.Root().define('metrics').add(StatType);

export { PROTOBUF_MEDIA_TYPE } from './media-types.js';

/** Encodes a {@link Stat} in protobuf wire format; `timestamp` (field 7) is left unset. */
export function encodeStat(stat: Stat): Uint8Array {
  return StatType.encode(StatType.fromObject(stat)).finish();
}

/** Decodes a protobuf `Stat` message, e.g. from `/metrics` with `Accept: application/protobuf`. */
export function decodeStat(bytes: Uint8Array): Stat {
  return StatType.toObject(StatType.decode(bytes), { defaults: true, longs: Number }) as unknown as Stat;
}
