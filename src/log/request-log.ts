import { firstRawHeaderValue } from '../core/raw-headers.js';
import type { ObservedRequest, RequestObserver } from '../core/request-observer.js';
import { compileRequestLogTemplate, type RequestLogInput, type RequestLogRequest, type RequestLogRevision } from './go-template.js';

/** Where the lines go: one call per batch of whole lines. */
export type LineSink = (lines: string) => void;

/** A request's `RemoteAddr` as Go's server sets it: `ip:port`, `[ip]:port` for IPv6, an IPv4-mapped address as IPv4 (Go's `IP.String`). */
export function goRemoteAddr(address: string | undefined, port: number | undefined): string {
  if (address === undefined) return '';
  // Only an address starting `::` can be IPv4-mapped: the others skip the regular expression.
  const ip = address.startsWith('::') ? (/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1] ?? address) : address;
  return ip.includes(':') ? `[${ip}]:${port ?? 0}` : `${ip}:${port ?? 0}`;
}

/**
 * Go's server `ContentLength`: the header's value; else -1 for a body of unknown length (HTTP/1.1 chunked, an
 * HTTP/2 stream whose HEADERS did not end it), 0 without a body.
 */
function contentLength(request: ObservedRequest): number {
  const length = firstRawHeaderValue(request.rawHeaders, 'content-length');
  if (length !== undefined) return Number(length);
  if (request.endStream !== undefined) return request.endStream ? 0 : -1;
  return firstRawHeaderValue(request.rawHeaders, 'transfer-encoding') === undefined ? 0 : -1;
}

/** Knative's `ExtractTraceID`: the trace id of a W3C `traceparent`, else the B3 `X-B3-TraceId`, else empty. */
function traceId(rawHeaders: readonly string[]): string {
  const traceparent = firstRawHeaderValue(rawHeaders, 'traceparent');
  if (traceparent !== undefined && traceparent !== '') {
    const parts = traceparent.split('-');
    if (parts.length >= 2) return parts[1]!;
  }
  return firstRawHeaderValue(rawHeaders, 'x-b3-traceid') ?? '';
}

/**
 * The request of one log line, read from Node's request: each field computed when the template reads it, so a
 * template that does not print `.Request.Host`, say, never looks for its headers.
 */
class LoggedRequest implements RequestLogRequest {
  constructor(private readonly request: ObservedRequest) {}

  get method(): string {
    return this.request.method ?? '';
  }

  get requestURI(): string {
    return this.request.url ?? '';
  }

  get contentLength(): number {
    return contentLength(this.request);
  }

  get proto(): string {
    return `HTTP/${this.request.httpVersion}`;
  }

  get remoteAddr(): string {
    return goRemoteAddr(this.request.remoteAddress, this.request.remotePort);
  }

  // Go's HTTP/2 server takes the Host from `:authority`, and from a Host header only without one.
  get host(): string {
    return this.header(':authority') ?? this.header('host') ?? '';
  }

  header(lowerName: string): string | undefined {
    return firstRawHeaderValue(this.request.rawHeaders, lowerName);
  }
}

/** Longest a rendered line waits for the write of its batch, in milliseconds. */
const BATCH_MS = 10;
/** A batch this long (UTF-16 code units) is written at once instead of waiting. */
const BATCH_LENGTH = 64 * 1024;

/**
 * Knative's request log (`pkg/http/request_log.go`): one line per request,
 * its template executed over the request, the response and the revision once
 * the response is over. Lines are written in batches, within 10 ms of the
 * first (at once past 64 K characters), so the response's close never waits
 * on a write and a busy sidecar makes about a hundred write calls a second,
 * not one per request (a write per event-loop turn was 4 % of the proxy's CPU
 * under wrk). {@link flush} writes what is pending, at exit.
 */
export class RequestLog implements RequestObserver {
  private readonly render: (input: RequestLogInput) => string;
  private pending = '';
  private timer: NodeJS.Timeout | undefined;

  /**
   * @param template - Go template text; checked by {@link compileRequestLogTemplate}
   * @param revision - the revision's names and pod
   * @param sink - where the lines go. Default: standard output.
   * @throws UnsupportedTemplateError for a construct outside the supported part of Go's templates
   */
  constructor(
    template: string,
    private readonly revision: RequestLogRevision,
    private readonly sink: LineSink = (lines) => void process.stdout.write(lines),
  ) {
    this.render = compileRequestLogTemplate(template);
  }

  /** Renders the line of one ended request (the proxy describes every request it tells a request log of). */
  requestEnded(statusCode: number, durationSeconds: number, request: ObservedRequest | undefined, responseBytes: number): void {
    if (request === undefined) return;
    const line = this.render({
      request: new LoggedRequest(request),
      response: { code: statusCode, size: responseBytes, latencySeconds: durationSeconds },
      revision: this.revision,
      traceID: traceId(request.rawHeaders),
    });
    this.pending += line;
    if (this.pending.length >= BATCH_LENGTH) this.flush();
    // Unreferenced: pending lines never keep a process alive; the owner calls flush before it exits.
    else this.timer ??= setTimeout(this.flush, BATCH_MS).unref();
  }

  /** Writes the lines not written yet, at once. */
  readonly flush = (): void => {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending === '') return;
    const lines = this.pending;
    this.pending = '';
    this.sink(lines);
  };
}
