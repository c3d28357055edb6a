import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeEntry, type ChildCommand } from './child.js';

/** Where Debian's `nginx` package puts the binary (`apt-get install -y nginx`). */
export const NGINX_PATH = '/usr/sbin/nginx';

/**
 * The installed nginx's version, e.g. `1.22.1`, or `undefined` when
 * {@link NGINX_PATH} does not run (benchmarks then mark its rows n/a).
 */
export function nginxVersion(): string | undefined {
  const result = spawnSync(NGINX_PATH, ['-v'], { encoding: 'utf8' });
  if (result.error !== undefined || result.status !== 0) return undefined;
  return /nginx\/(\S+)/.exec(`${result.stdout}${result.stderr}`)?.[1];
}

/** One nginx reverse proxy instance for a benchmark. */
export interface NginxProxyOptions {
  /** Port it listens on, 127.0.0.1 only. */
  port: number;
  /** Port of the app on 127.0.0.1 it forwards to. */
  upstreamPort: number;
  /** `worker_processes`: a count, or `auto` for one per CPU. */
  workers: number | 'auto';
}

/** A prepared nginx instance: its command and the temp directory holding its config, pid, log and temp files. */
export interface NginxProxy {
  /** Runs nginx in the foreground under bench/guard.ts, so it dies with the runner. */
  readonly command: ChildCommand;
  /** Deletes the temp directory; call after the process has stopped. */
  remove(): void;
}

function config(dir: string, options: NginxProxyOptions): string {
  // Set up as a fair counterpart of our proxy: keep-alive both ways with no
  // per-connection request limit (Node's server has none), no access log,
  // the client's Host passed on, X-Forwarded-For/-Proto added. Room for
  // 1,024 clients plus as many upstream connections (proxy-load).
  return `daemon off;
worker_processes ${options.workers};
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events {
  worker_connections 4096;
}
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 1000000;
  upstream app {
    server 127.0.0.1:${options.upstreamPort};
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${options.port};
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
    }
  }
}
`;
}

/**
 * Writes an nginx reverse-proxy config into a new temp directory (pid, logs
 * and temp files go there too; nothing under /etc or /var is used) and
 * returns the command that runs it.
 */
export function nginxProxy(options: NginxProxyOptions): NginxProxy {
  const dir = mkdtempSync(join(tmpdir(), 'bench-nginx-'));
  const file = join(dir, 'nginx.conf');
  writeFileSync(file, config(dir, options));
  return {
    // -e: the error log before the config is read, else nginx opens /var/log/nginx/error.log.
    command: nodeEntry('./guard.js', [NGINX_PATH, '-p', dir, '-c', file, '-e', join(dir, 'error.log')]),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
