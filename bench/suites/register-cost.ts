import { nodeEntry } from '../lib/child.js';
import { answers200OverH2c, h2loadVersion, runH2load } from '../lib/h2load.js';
import { cpuPerRequest, pairRatios, runSwitched, type SwitchedRunOptions } from '../lib/switched-phases.js';
import { describeRatioSpread, formatCount, formatSmall, type Benchmark, type Row } from '../lib/table.js';
import { GOAL_CPU_RATIO } from './stats-cost.js';

/** Seconds of continuous load per mode, after a 2 s warm-up; `REGISTER_COST_SECONDS` shortens a smoke run. */
const LOAD_SECONDS = Number(process.env['REGISTER_COST_SECONDS'] ?? 30);
/** The HTTP/2 load: 32 streams in flight, 4 connections of 8, as the `h2` suite loads. */
const H2_LOAD = { clients: 4, streams: 8 };

/** Rows of one mode: its load, both kinds of phase and the ratio against the goal. */
async function modeRows(mode: 'middleware' | 'register' | 'register-h2', label: string, loadName = 'wrk -t1 -c32', options: SwitchedRunOptions = {}): Promise<Row[]> {
  const { phases, requestsPerSecond } = await runSwitched(`switched ${mode} app`, (port, resultsFile) => nodeEntry('serve-switched-app.js', [String(port), mode, resultsFile]), LOAD_SECONDS, options);
  const tracked = phases.filter((phase) => phase.tracked);
  const untracked = phases.filter((phase) => !phase.tracked);
  const ratio = cpuPerRequest(tracked) / cpuPerRequest(untracked);
  const pairs = pairRatios(phases);
  return [
    { subject: `${label}: ${loadName} for ${LOAD_SECONDS} s`, result: `${formatCount(requestsPerSecond)} req/s` },
    { subject: `${label}, tracked: ${tracked.length} phases of 250 ms, each from 250 ms after its switch`, result: `CPU ${formatSmall(cpuPerRequest(tracked))} µs/req` },
    { subject: `${label}, untracked: ${untracked.length} phases`, result: `CPU ${formatSmall(cpuPerRequest(untracked))} µs/req` },
    {
      subject: `${label}: tracked ÷ untracked (CPU µs/req over all phases)`,
      result: describeRatioSpread(pairs, 'adjacent pairs'),
      ratio,
      goal: `<= ${GOAL_CPU_RATIO.toFixed(2)}`,
      met: ratio <= GOAL_CPU_RATIO,
    },
  ];
}

/**
 * `register-cost`: what tracking costs a hello-world app's request in process, without a proxy, as `stats-cost`
 * measures it for the proxy: one app process (bench/servers/serve-switched-app.ts) whose tracking is switched on and
 * off every 500 ms under one continuous load, each phase measured for its last 250 ms (a switch of Node's channel
 * makes V8 compile Node's code again, which an app that registers once never pays), for an Express app with RequestTracker.middleware, for a bare
 * `node:http` app tracked as the `--import` register mode tracks it (wrk), and for a bare `node:http2` cleartext app
 * tracked the same way on its streams (h2load, when installed).
 */
export const registerCost: Benchmark = {
  description:
    'CPU per request of a hello-world app with in-process tracking switched on and off every 500 ms, measured from 250 ms after each switch (middleware, register mode on HTTP/1.1 and HTTP/2)',
  async run(): Promise<Row[]> {
    const h2 =
      (await h2loadVersion()) === undefined
        ? [{ subject: 'node:http2 + register mode', result: 'n/a: h2load not installed (apt-get install -y nghttp2-client)' }]
        : await modeRows('register-h2', 'node:http2 (h2c) + register mode', `h2load -c${H2_LOAD.clients} -m${H2_LOAD.streams}`, {
            load: (url, seconds) => runH2load({ url, durationSeconds: seconds, ...H2_LOAD }),
            ready: answers200OverH2c,
          });
    return [...(await modeRows('middleware', 'Express + middleware')), ...(await modeRows('register', 'node:http + register mode')), ...h2];
  },
};
