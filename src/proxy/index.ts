/**
 * Entry point `queue-stats-exporter/proxy`: the sidecar's reverse proxy
 * (undici to the app). This file only re-exports.
 */
export { startProxy, type ProxyOptions, type ProxyServer } from './proxy.js';
export type { BreakerReadings } from '../core/breaker.js';
