import type { Benchmark, Row } from './benchmark.js';
import { measureSwitched } from './switched.js';

/**
 * `stats-cost`: what the statistics cost a proxied request, measured in one
 * proxy process whose tracker is switched on and off every 250 ms under one
 * continuous load (bench/switched.ts). The reporting tick, the reporter and
 * scrapes run once a second whatever the load; `report` and `scrape`
 * measure them.
 */
export const statsCost: Benchmark = {
  description: 'CPU per proxied request with the tracker switched on and off every 250 ms in one process',
  run: (): Promise<Row[]> => measureSwitched('proxy'),
};
