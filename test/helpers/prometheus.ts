import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { freePort } from './http.js';

/** Why a test that needs Prometheus is skipped, or false when the binaries are installed. */
export function prometheusMissing(binary = 'prometheus'): string | false {
  const found = spawnSync(binary, ['--version'], { stdio: 'ignore' });
  return found.error === undefined ? false : `${binary} is not installed: apt-get update && apt-get install -y prometheus`;
}

/** A Prometheus server started by a test, on a free loopback port. */
export class PrometheusServer {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly url: string,
  ) {}

  /** Starts Debian's `prometheus` on a free loopback port, scraping `targets` every second. */
  static start(targets: string[]): Promise<PrometheusServer> {
    return PrometheusServer.startWithConfig(() =>
      [
        'global:',
        '  scrape_interval: 1s',
        '  scrape_timeout: 1s',
        'scrape_configs:',
        '  - job_name: queue',
        '    static_configs:',
        `      - targets: [${targets.map((t) => `'${t}'`).join(', ')}]`,
        '',
      ].join('\n'),
    );
  }

  /**
   * Starts Debian's `prometheus` on a free loopback port with the configuration `write` returns.
   * `write` gets the server's own temporary folder, so it can put files the configuration names
   * (file discovery, rules) there; the folder goes away on {@link stop}.
   */
  static async startWithConfig(write: (dir: string) => string): Promise<PrometheusServer> {
    const dir = mkdtempSync(join(tmpdir(), 'prom-'));
    writeFileSync(join(dir, 'prometheus.yml'), write(dir));
    const port = await freePort();
    const child = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
    const server = new PrometheusServer(child, dir, `http://127.0.0.1:${port}`);
    await server.waitFor(async () => (await fetch(`${server.url}/-/ready`)).ok, 'Prometheus to be ready');
    return server;
  }

  /** Polls `check` every 250 ms until it holds, for at most `timeoutMs`. */
  async waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`prometheus exited with ${this.child.exitCode}`);
      try {
        if (await check()) return;
      } catch (error) {
        last = error;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`timed out waiting for ${what}${last ? `: ${last instanceof Error ? String(last) : inspect(last)}` : ''}`);
  }

  /** Waits until every scrape target is up (a fresh server hands targets over only after ~5 s). */
  waitForTargetsUp(count: number): Promise<void> {
    return this.waitFor(async () => {
      const { activeTargets } = await this.api<{ activeTargets: Array<{ health: string }> }>('targets');
      return activeTargets.length === count && activeTargets.every((t) => t.health === 'up');
    }, 'targets to be up');
  }

  /** Runs an instant query and returns the vector's samples. */
  async query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
    const data = await this.api<{ result: Array<{ metric: Record<string, string>; value: [number, string] }> }>(`query?query=${encodeURIComponent(expr)}`);
    return data.result;
  }

  /** The values of `label` on the series `match` selects (what Grafana's `label_values(match, label)` lists). */
  labelValues(label: string, match: string): Promise<string[]> {
    return this.api(`label/${encodeURIComponent(label)}/values?match[]=${encodeURIComponent(match)}`);
  }

  /** GETs `/api/v1/<path>` and returns its `data`; throws unless the status is `success`. */
  private async api<T>(path: string): Promise<T> {
    const response = await fetch(`${this.url}/api/v1/${path}`);
    const body = (await response.json()) as { status: string; data: T };
    if (body.status !== 'success') throw new Error(`${path} failed: ${JSON.stringify(body)}`);
    return body.data;
  }

  /** Stops the server and removes its data. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Runs `promtool` with `args`, feeding `input` on stdin; returns its exit code and output. */
export function promtool(args: string[], input?: string): { status: number | null; output: string } {
  const result = spawnSync('promtool', args, { input, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}
