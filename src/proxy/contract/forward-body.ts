import type { Readable, Writable } from 'node:stream';
import { countBodyBytes } from '../../http/body-bytes.js';

/** The `'drain'` listener of a paused source: resumes it. Bound per call of {@link forwardBody}, once per stall. */
function resumeOnDrain(source: Readable, target: Writable): void {
  target.once('drain', () => source.resume());
}

/**
 * Streams `source` into `target` with backpressure (the source pauses while
 * the target's buffer is full) and ends `target` when `source` ends: what
 * `source.pipe(target)` does for one exchange's body (its bytes counted on
 * `target`, for the request log's `.Response.Size`), with two listeners
 * instead of pipe's seven and no unpipe bookkeeping. Neither side's errors or
 * early close are handled here: the exchange that calls it resets both
 * streams itself (an HTTP/2 stream's 'close' and reset code).
 */
export function forwardBody(source: Readable, target: Writable): void {
  source.on('data', (chunk: Buffer) => {
    countBodyBytes(target, chunk.length);
    if (!target.write(chunk)) {
      source.pause();
      resumeOnDrain(source, target);
    }
  });
  source.on('end', () => target.end());
}
