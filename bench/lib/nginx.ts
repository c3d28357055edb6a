import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guarded, type ChildCommand } from './child.js';

/** Where Debian's `nginx` package puts the binary (`apt-get install -y nginx`). */
export const NGINX_PATH = '/usr/sbin/nginx';

/** The installed nginx's version, e.g. `1.22.1`, or `undefined` when {@link NGINX_PATH} does not run (its rows then say n/a). */
export function nginxVersion(): string | undefined {
  const result = spawnSync(NGINX_PATH, ['-v'], { encoding: 'utf8' });
  if (result.error !== undefined || result.status !== 0) return undefined;
  return /nginx\/(\S+)/.exec(`${result.stdout}${result.stderr}`)?.[1];
}

// A fair counterpart of our proxy: one worker, keep-alive both ways with no per-connection request limit (Node's
// server has none), no access log, the client's Host passed on, X-Forwarded-For/-Proto added. Room for 1,024 clients
// plus as many upstream connections (proxy-load). Every file lives in `dir`: nothing under /etc or /var is used.
const config = (dir: string, port: number, upstreamPort: number): string => `daemon off;
worker_processes 1;
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
    server 127.0.0.1:${upstreamPort};
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port};
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

// The HTTP/2 counterpart: h2c with prior knowledge in (`listen ... http2` without TLS), h2c out through the gRPC
// module (nginx's only HTTP/2 upstream), which forwards any HTTP/2 request, not only gRPC calls.
const h2Config = (dir: string, port: number, upstreamPort: number): string =>
  config(dir, port, upstreamPort)
    .replace(`listen 127.0.0.1:${port};`, `listen 127.0.0.1:${port} http2;`)
    .replace(/location \/ \{[^}]*\}/, `location / {\n      grpc_pass grpc://app;\n      grpc_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n    }`);

/**
 * An nginx reverse proxy on 127.0.0.1:`port` in front of the app on `upstreamPort` (HTTP/1.1 both ways, or with
 * `http2` h2c both ways), its config, pid, logs and temp files in a new temp directory, which `remove` deletes once
 * the process has stopped.
 */
export function nginxProxy(port: number, upstreamPort: number, http2 = false): { command: ChildCommand; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'bench-nginx-'));
  const file = join(dir, 'nginx.conf');
  writeFileSync(file, (http2 ? h2Config : config)(dir, port, upstreamPort));
  return {
    // -e: the error log before the config is read, else nginx opens /var/log/nginx/error.log.
    command: guarded(NGINX_PATH, ['-p', dir, '-c', file, '-e', join(dir, 'error.log')]),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
