/**
 * The two messages of gRPC's health protocol (`grpc/health/v1/health.proto` in
 * grpc/grpc-proto, package `grpc.health.v1`), as the readiness prober sends and
 * reads them in the body of a `Health/Check` call. Pure: no I/O.
 */
import protobuf from 'protobufjs/light.js';

/** The `:path` of the unary call: `/<package>.<service>/<method>`. */
export const HEALTH_CHECK_PATH = '/grpc.health.v1.Health/Check';

/** `HealthCheckResponse.ServingStatus`; only SERVING means ready. */
const ServingStatus = new protobuf.Enum('ServingStatus', { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 });
const HealthCheckRequest = new protobuf.Type('HealthCheckRequest').add(new protobuf.Field('service', 1, 'string'));
const HealthCheckResponse = new protobuf.Type('HealthCheckResponse').add(new protobuf.Field('status', 1, 'ServingStatus')).add(ServingStatus);
new protobuf.Root().define('grpc.health.v1').add(HealthCheckRequest).add(HealthCheckResponse);

/**
 * gRPC's Length-Prefixed-Message header (grpc/grpc `doc/PROTOCOL-HTTP2.md`,
 * "Requests"): a one-byte Compressed-Flag, then the message's length as a
 * four-byte unsigned big-endian integer. It frames messages inside one HTTP/2
 * stream's DATA; the HTTP/2 framing itself is Node's. No package the product
 * depends on implements it (@grpc/grpc-js keeps it internal and is a test
 * dependency here), hence these few lines.
 */
const PREFIX_BYTES = 5;

/**
 * A `HealthCheckRequest` asking about `service` (`''`: the server as a
 * whole), as the whole request body of a call: one uncompressed
 * length-prefixed message.
 */
export function frameHealthCheckRequest(service: string): Uint8Array {
  const message = HealthCheckRequest.encode({ service }).finish();
  const body = new Uint8Array(PREFIX_BYTES + message.length);
  new DataView(body.buffer).setUint32(1, message.length);
  body.set(message, PREFIX_BYTES);
  return body;
}

/**
 * Whether a call's response body is exactly one uncompressed
 * `HealthCheckResponse` whose status is SERVING. Anything else (no message, a
 * compressed one, which the prober never invites, bytes past its end, a
 * message protobufjs cannot decode, another status) is false; never throws.
 */
export function isServingResponse(body: Uint8Array): boolean {
  if (body.length < PREFIX_BYTES || body[0] !== 0) return false;
  const length = new DataView(body.buffer, body.byteOffset, body.byteLength).getUint32(1);
  if (body.length !== PREFIX_BYTES + length) return false;
  try {
    const response = HealthCheckResponse.decode(body.subarray(PREFIX_BYTES)) as unknown as { status: number };
    return response.status === ServingStatus.values['SERVING'];
  } catch {
    return false;
  }
}
