/**
 * Entry point `queue-stats-exporter/proxy`: the sidecar's reverse proxy
 * (undici to the app). This file only re-exports.
 */
export { startProxy, type ProxyOptions, type ProxyServer } from './proxy.js';
export type { Drainer } from './contract/drainer.js';
export type { ProxyTlsOptions } from './tls/tls-options.js';
export type { CertificateReload } from './tls/certificate-watcher.js';
export { startAdminServer, WAIT_FOR_DRAIN_PATH, type AdminServer, type AdminServerOptions } from './admin/admin-server.js';
