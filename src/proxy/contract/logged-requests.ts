import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { Duplex } from 'node:stream';
import { RequestKind } from '../../core/request-kind.js';
import type { ObservedRequest, RequestObserver } from '../../core/request-observer.js';
import { RequestTimer, type UpgradeOutcome } from './request-timer.js';

/** An HTTP/1.1 request (or one of Node's HTTP/2 compatibility requests) as a request log reads it, taken now. */
function observedRequest(request: IncomingMessage): ObservedRequest {
  const socket = request.socket;
  const stream = (request as unknown as Partial<Http2ServerRequest>).stream;
  return {
    method: request.method,
    url: request.url,
    httpVersion: request.httpVersion,
    rawHeaders: request.rawHeaders,
    remoteAddress: socket?.remoteAddress,
    remotePort: socket?.remotePort,
    endStream: stream?.endAfterHeaders,
  };
}

/** An HTTP/2 stream's request as a request log reads it, taken at its HEADERS frame. */
function observedStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, rawHeaders: string[]): ObservedRequest {
  const socket = stream.session?.socket;
  return { method: headers[':method'], url: headers[':path'], httpVersion: '2.0', rawHeaders, remoteAddress: socket?.remoteAddress, remotePort: socket?.remotePort, endStream: stream.endAfterHeaders };
}

/**
 * The proxy's request log hook: every request its port receives, timed from its arrival, told to the log's
 * {@link RequestObserver} with what it needs of the request once the response closes. As Knative's request log
 * handler (outermost in queue-proxy's chain, knative/serving `pkg/queue/sharedmain/handlers.go`), probes
 * (`K-Network-Probe`, kubelet probes) are left out unless `probes` is set.
 */
export class LoggedRequests {
  private readonly timer: RequestTimer;

  /**
   * @param observer - the request log
   * @param probes - whether probe requests are logged too
   */
  constructor(
    observer: RequestObserver,
    private readonly probes: boolean,
  ) {
    this.timer = new RequestTimer(observer);
  }

  private logged(kind: RequestKind): boolean {
    return this.probes || (kind !== RequestKind.NetworkProbe && kind !== RequestKind.KubeletProbe);
  }

  /** An HTTP/1.1 request (or an HTTP/2 one through Node's compatibility API) of `kind` arrived. */
  request(kind: RequestKind, request: IncomingMessage, response: ServerResponse): void {
    if (this.logged(kind)) this.timer.start(request, response, observedRequest(request));
  }

  /** An upgrade request of `kind` arrived on `socket` (a `node:http` server's 'upgrade' event); `outcome` tells how it was answered once `socket` closes. */
  upgrade(kind: RequestKind, request: IncomingMessage, socket: Duplex, outcome: UpgradeOutcome): void {
    if (this.logged(kind)) this.timer.startUpgrade(socket, outcome, observedRequest(request));
  }

  /** An HTTP/2 stream of `kind` arrived with its HEADERS frame (`headers`, `rawHeaders`). */
  stream(kind: RequestKind, stream: ServerHttp2Stream, headers: IncomingHttpHeaders, rawHeaders: string[]): void {
    if (this.logged(kind)) this.timer.startStream(stream, observedStream(stream, headers, rawHeaders));
  }
}
