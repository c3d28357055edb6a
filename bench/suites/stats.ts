import { ReqEventType, RequestStats } from '../../src/core/stats.js';
import { formatCount, formatSmall, medianBy, type Benchmark, type Row } from '../lib/table.js';

const EVENTS = 10_000_000;
const GOAL_EVENTS_PER_SECOND = 10_000_000;

/**
 * Events per second of `loop(events)`: the median of three timed calls of {@link EVENTS}, after twenty short calls
 * that get the loop function itself optimised (one long call would run in the interpreter until on-stack replacement).
 */
function eventsPerSecond(loop: (events: number) => void): number {
  for (let call = 0; call < 20; call++) loop(EVENTS / 50);
  const rates = [0, 1, 2].map(() => {
    const started = performance.now();
    loop(EVENTS);
    return (EVENTS * 1000) / (performance.now() - started);
  });
  return medianBy(rates, (rate) => rate);
}

const describe = (rate: number): string => `${formatCount(rate)} events/s (${formatSmall(1e9 / rate)} ns/event)`;

/** `stats`: RequestStats.handle() with in/out events 0.25 ms apart, in events per second, against one plain increment per event. */
export const stats: Benchmark = {
  description: 'RequestStats.handle() events/s vs plain increments',
  run(): Promise<Row[]> {
    const requestStats = new RequestStats(0);
    // Time keeps moving forward across calls, so every event takes the time-weighting path, as real events do.
    let clockMs = 0;
    const ours = eventsPerSecond((events) => {
      let timeMs = clockMs;
      for (let i = 0; i < events; i += 2) {
        requestStats.handle(ReqEventType.ReqIn, timeMs);
        timeMs += 0.25;
        requestStats.handle(ReqEventType.ReqOut, timeMs);
        timeMs += 0.25;
      }
      clockMs = timeMs;
    });
    const counters = { in: 0, out: 0 };
    const floor = eventsPerSecond((events) => {
      for (let i = 0; i < events; i += 2) {
        counters.in++;
        counters.out++;
      }
    });
    return Promise.resolve([
      { subject: 'RequestStats.handle(), in/out alternating', result: describe(ours), goal: `>= ${formatCount(GOAL_EVENTS_PER_SECOND)} events/s`, met: ours >= GOAL_EVENTS_PER_SECOND },
      { subject: 'floor: one plain increment per event', result: describe(floor) },
      { subject: 'handle() ÷ floor (events/s)', ratio: ours / floor },
    ]);
  },
};
