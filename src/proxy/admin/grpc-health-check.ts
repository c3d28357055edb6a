/**
 * One attempt of a gRPC readiness probe: a unary `grpc.health.v1.Health/Check`
 * call over HTTP/2 cleartext (prior knowledge), as Knative's GRPCProbe makes
 * with grpc-go (knative/serving `pkg/queue/health/probe.go`). Node's http2
 * (nghttp2) speaks HTTP/2; the messages are grpc-health-messages.ts's.
 */
import { connect, type IncomingHttpHeaders } from 'node:http2';
import { frameHealthCheckRequest, HEALTH_CHECK_PATH, isServingResponse } from './grpc-health-messages.js';

/** What a call may receive before it is cut: a health response is a few bytes; this leaves room for unknown fields. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/** The server a check calls and what it asks. */
export interface GrpcHealthTarget {
  /** `host:port`, an IPv6 host in brackets. */
  readonly authority: string;
  /** The request's `service` (`''`: the server as a whole). */
  readonly service: string;
  /** The `user-agent` header. */
  readonly userAgent: string;
}

/**
 * Returns the attempt for `target`: each call opens its own HTTP/2 session
 * (as Knative opens a gRPC connection per attempt, and as the HTTP probe uses
 * a fresh connection), makes one `Health/Check` call with a `grpc-timeout` of
 * `timeoutMs` milliseconds, and closes the session. It resolves true only
 * for HTTP status 200, `grpc-status` 0 and a response whose status is
 * SERVING, all within `timeoutMs`; false on anything else (refused, reset,
 * timeout, NOT_SERVING, an unknown service's NOT_FOUND, UNIMPLEMENTED). Never rejects.
 */
export function grpcHealthCheck(target: GrpcHealthTarget): (timeoutMs: number) => Promise<boolean> {
  const url = `http://${target.authority}`;
  const request = frameHealthCheckRequest(target.service);
  return (timeoutMs) =>
    new Promise((resolve) => {
      const session = connect(url);
      // resolve() keeps the first answer; destroying twice is harmless.
      const settle = (ready: boolean): void => {
        clearTimeout(timer);
        session.destroy();
        resolve(ready);
      };
      const timer = setTimeout(() => settle(false), timeoutMs);
      session.on('error', () => settle(false));
      const stream = session.request({
        ':method': 'POST',
        ':path': HEALTH_CHECK_PATH,
        'content-type': 'application/grpc',
        te: 'trailers',
        'user-agent': target.userAgent,
        'grpc-timeout': grpcTimeout(timeoutMs),
      });
      let httpStatus: number | undefined;
      let grpcStatus: unknown;
      const chunks: Buffer[] = [];
      let received = 0;
      // A failed call may come "Trailers-Only": grpc-status in the response headers.
      stream.on('response', (headers) => {
        httpStatus = headers[':status'];
        grpcStatus = headers['grpc-status'];
      });
      stream.on('trailers', (trailers: IncomingHttpHeaders) => {
        grpcStatus = trailers['grpc-status'];
      });
      stream.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > MAX_RESPONSE_BYTES) settle(false);
        else chunks.push(chunk);
      });
      stream.on('error', () => settle(false));
      stream.on('close', () => settle(stream.rstCode === 0 && httpStatus === 200 && grpcStatus === '0' && isServingResponse(Buffer.concat(chunks))));
      stream.end(request);
    });
}

/**
 * The `grpc-timeout` header: at most 8 digits and a unit (grpc/grpc
 * `doc/PROTOCOL-HTTP2.md`); milliseconds while they fit, else whole seconds,
 * rounded up.
 */
function grpcTimeout(timeoutMs: number): string {
  return timeoutMs < 100_000_000 ? `${timeoutMs}m` : `${Math.ceil(timeoutMs / 1000)}S`;
}
