import { ReqEventType, RequestStats } from '../src/core/stats.js';
import type { Benchmark, Row } from './benchmark.js';
import { measureLoop, type Loop, type LoopResult } from './measure-loop.js';
import { formatCount, formatSmall } from './table.js';

const EVENTS = 10_000_000;
const GOAL_EVENTS_PER_SECOND = 10_000_000;

const eventsPerSecond = (result: LoopResult): number => 1e9 / result.nsPerOp;

function describeLoop(result: LoopResult): string {
  return `${formatCount(eventsPerSecond(result))} events/s (${formatSmall(result.nsPerOp)} ns/event), ${result.gcCount} GCs, ${formatSmall(result.bytesPerOp)} B/event`;
}

/**
 * `stats`: RequestStats.handle() with alternating in/out events 0.25 ms
 * apart, in events per second, against a loop doing one plain increment
 * per event.
 */
export const stats: Benchmark = {
  description: 'RequestStats.handle() events/s vs plain increments',
  async run(): Promise<Row[]> {
    const requestStats = new RequestStats(0);
    // Time keeps moving forward across runs, so every event takes the
    // accumulate path, as real events do.
    let clockMs = 0;
    const handleLoop: Loop = (events) => {
      let timeMs = clockMs;
      for (let i = 0; i < events; i += 2) {
        requestStats.handle(ReqEventType.ReqIn, timeMs);
        timeMs += 0.25;
        requestStats.handle(ReqEventType.ReqOut, timeMs);
        timeMs += 0.25;
      }
      clockMs = timeMs;
    };
    const counters = { in: 0, out: 0 };
    const incrementLoop: Loop = (events) => {
      for (let i = 0; i < events; i += 2) {
        counters.in++;
        counters.out++;
      }
    };
    const floor = await measureLoop(incrementLoop, { iterations: EVENTS });
    const ours = await measureLoop(handleLoop, { iterations: EVENTS });
    return [
      {
        subject: 'RequestStats.handle(), in/out alternating',
        result: describeLoop(ours),
        goal: `>= ${formatCount(GOAL_EVENTS_PER_SECOND)} events/s`,
        met: eventsPerSecond(ours) >= GOAL_EVENTS_PER_SECOND,
      },
      { subject: 'floor: one plain increment per event', result: describeLoop(floor) },
      { subject: 'handle() ÷ floor (events/s)', ratio: eventsPerSecond(ours) / eventsPerSecond(floor) },
    ];
  },
};
