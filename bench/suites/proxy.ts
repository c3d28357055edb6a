import { cpuRatioRow, ratioRow, type CompareOptions } from '../lib/compare.js';
import { GO_QUEUE_PROXY_MISSING, GO_QUEUE_PROXY_SUBJECT, measureProxies } from '../lib/proxies.js';
import { formatCount, megabytes, type Benchmark, type Row } from '../lib/table.js';

/** wrk -t1 -c32, eleven rotated 2 s runs per target after a 1 s warm-up. */
const LOAD: CompareOptions = { rounds: 11, durationSeconds: 2, connections: 32, warmupSeconds: 1 };
/** Issue 21's goals: the CLI's CPU per request at most 0.8 times the Go anchor's (0.6 the moonshot), its peak RSS at most 80 MB. */
const GOAL_GO_CPU_RATIO = 0.8;
/**
 * V8 flags tried after the shipped ones, each a CLI of its own in the same rotation. `--maglev` turns V8's mid-tier
 * compiler back on (on by default from Node 22; Node 20 had it off, and the bin's shebang turns it off): this
 * measures what `--no-maglev` saves.
 */
const VARIANT_FLAGS = [['--maglev']];
const MOONSHOT_GO_CPU_RATIO = 0.6;
const GOAL_RSS_MB = 80;

/**
 * `proxy`: a hello-world node:http app loaded directly and through our CLI (stats on, its /metrics scraped once a
 * second), our proxy with stats off, nginx with one worker and the Go queue-proxy anchor, each in its own process:
 * req/s, latency, CPU per request and peak RSS of every server process, read from /proc.
 */
export const proxy: Benchmark = {
  description: 'hello-world app direct vs through our proxy (stats on/off), nginx and the Go queue-proxy anchor: CPU per request, req/s, CLI peak RSS',
  async run(): Promise<Row[]> {
    const { rows, ours, statsOff, anchor, peakCounted, variants } = await measureProxies('', 'hello world, plain node:http', true, LOAD, 'plain', undefined, VARIANT_FLAGS);
    rows[1]!.result += `, its own peak queue_requests_per_second ${formatCount(peakCounted)}`;
    // Separate processes measured in turn: this moves by ±10 % between runs; `stats-cost` measures the stats finely.
    rows.push(ratioRow('stats on ÷ stats off', ours.load, statsOff!.load));
    const cpuName = `stats on ÷ Go queue-proxy anchor, moonshot ${MOONSHOT_GO_CPU_RATIO.toFixed(2)}`;
    if (anchor === undefined) {
      rows.push(
        { subject: GO_QUEUE_PROXY_SUBJECT, result: GO_QUEUE_PROXY_MISSING },
        { subject: `${cpuName} (CPU µs/req over all rounds)`, result: GO_QUEUE_PROXY_MISSING, goal: `<= ${GOAL_GO_CPU_RATIO.toFixed(2)}` },
      );
    } else {
      rows.push(cpuRatioRow(cpuName, ours, anchor, GOAL_GO_CPU_RATIO), ratioRow('stats on ÷ Go queue-proxy anchor', ours.load, anchor.load));
    }
    const peak = ours.peakRssBytes;
    rows.push({ subject: 'stats on: peak RSS of the CLI process (VmHWM)', result: megabytes(peak), goal: `<= ${GOAL_RSS_MB} MB`, met: peak <= GOAL_RSS_MB * 1e6 });
    for (const [index, flags] of VARIANT_FLAGS.entries()) {
      const variant = variants[index]!;
      rows.push(cpuRatioRow(`stats on with ${flags.join(' ')} ÷ as shipped`, variant, ours), {
        subject: `stats on with ${flags.join(' ')}: peak RSS of the CLI process (VmHWM)`,
        result: megabytes(variant.peakRssBytes),
      });
      if (anchor !== undefined) rows.push(cpuRatioRow(`stats on with ${flags.join(' ')} ÷ Go queue-proxy anchor`, variant, anchor));
    }
    return rows;
  },
};
