/**
 * The clock every component uses by default: monotonic milliseconds
 * (`performance.now`), so wall-clock steps never distort the stats windows.
 */
export const monotonicNow = (): number => performance.now();
