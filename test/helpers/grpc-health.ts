import { Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall, type ServiceDefinition } from '@grpc/grpc-js';
import protobuf from 'protobufjs';

/**
 * gRPC's health service (grpc/grpc-proto `grpc/health/v1/health.proto`), Check
 * alone, parsed by protobufjs from its own text so that the server's messages
 * do not come from the code under test.
 */
const HEALTH_PROTO = `
syntax = "proto3";
package grpc.health.v1;
message HealthCheckRequest { string service = 1; }
message HealthCheckResponse {
  enum ServingStatus { UNKNOWN = 0; SERVING = 1; NOT_SERVING = 2; SERVICE_UNKNOWN = 3; }
  ServingStatus status = 1;
}
service Health { rpc Check(HealthCheckRequest) returns (HealthCheckResponse); }
`;
const root = protobuf.parse(HEALTH_PROTO).root;
const Request = root.lookupType('grpc.health.v1.HealthCheckRequest');
const Response = root.lookupType('grpc.health.v1.HealthCheckResponse');

/** A `ServingStatus` by name. */
export type ServingStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

/** grpc-js's generic definition of `Health/Check`, with protobufjs serializers. */
const HEALTH_SERVICE: ServiceDefinition = {
  check: {
    path: '/grpc.health.v1.Health/Check',
    requestStream: false,
    responseStream: false,
    requestSerialize: (value: object) => Buffer.from(Request.encode(Request.fromObject(value)).finish()),
    requestDeserialize: (bytes: Buffer) => Request.toObject(Request.decode(bytes), { defaults: true }),
    responseSerialize: (value: object) => Buffer.from(Response.encode(Response.fromObject(value)).finish()),
    responseDeserialize: (bytes: Buffer) => Response.toObject(Response.decode(bytes), { enums: String, defaults: true }),
  },
};

/** One Check call the server answered. */
export interface HealthCall {
  /** The request's `service`. */
  service: string;
  /** The `user-agent` metadata. */
  userAgent: string;
  /** Milliseconds from the call's arrival to its deadline (`grpc-timeout`); Infinity without one. */
  deadlineMs: number;
}

/** A running grpc-js server on 127.0.0.1 implementing `grpc.health.v1.Health/Check`. */
export interface HealthServer {
  readonly port: number;
  /** Status per service name (`''`: the server); a service not in the map gets NOT_FOUND, as grpc's own health service answers. */
  readonly statuses: Map<string, ServingStatus>;
  /** The calls answered, in order. */
  readonly calls: HealthCall[];
  close(): Promise<void>;
}

/** Starts a health server on `port` (0: a free one) with `statuses`; `withHealth` false serves no service, so calls get UNIMPLEMENTED. */
export async function startHealthServer(statuses: Record<string, ServingStatus>, port = 0, withHealth = true): Promise<HealthServer> {
  const server = new Server();
  const map = new Map(Object.entries(statuses));
  const calls: HealthCall[] = [];
  const check = (call: ServerUnaryCall<{ service: string }, object>, callback: sendUnaryData<object>): void => {
    const { service } = call.request;
    const [userAgent] = call.metadata.get('user-agent');
    calls.push({ service, userAgent: typeof userAgent === 'string' ? userAgent : '', deadlineMs: Number(call.getDeadline()) - Date.now() });
    const found = map.get(service);
    if (found === undefined) callback({ code: status.NOT_FOUND });
    else callback(null, { status: found });
  };
  if (withHealth) server.addService(HEALTH_SERVICE, { check });
  const bound = await new Promise<number>((resolve, reject) => server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (error, actual) => (error ? reject(error) : resolve(actual))));
  return {
    port: bound,
    statuses: map,
    calls,
    close: () => Promise.resolve(server.forceShutdown()),
  };
}
