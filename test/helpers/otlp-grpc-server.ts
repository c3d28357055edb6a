import { Server, ServerCredentials, type Metadata, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';

/** The gRPC method of OTLP's trace service. */
export const TRACE_EXPORT = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
/** The gRPC method of OTLP's metrics service. */
export const METRICS_EXPORT = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';

/** One export call: its request message, still encoded, and its metadata (the headers of the call). */
export interface ExportCall {
  body: Buffer;
  metadata: Record<string, string>;
}

/** Messages pass as they are: the tests decode them with their own schemas. */
const asIs = (bytes: Buffer): Buffer => bytes;

function stringMap(metadata: Metadata): Record<string, string> {
  const map: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata.getMap())) map[key] = String(value);
  return map;
}

/**
 * A real gRPC server (`@grpc/grpc-js`) on 127.0.0.1 that takes the unary
 * calls of `method` as an OTLP collector does: each call goes to `onCall`,
 * and is answered with an empty message (a response that accepted
 * everything).
 *
 * @returns the URL to export to (`http://127.0.0.1:<port>`, cleartext) and a close
 */
export async function serveGrpcExports(method: string, onCall: (call: ExportCall) => void): Promise<{ url: string; close: () => void }> {
  const server = new Server();
  const definition = { path: method, requestStream: false, responseStream: false, requestSerialize: asIs, requestDeserialize: asIs, responseSerialize: asIs, responseDeserialize: asIs };
  server.addService(
    { Export: definition },
    {
      Export: (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
        onCall({ body: call.request, metadata: stringMap(call.metadata) });
        callback(null, Buffer.alloc(0));
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error === null ? resolve(bound) : reject(error))));
  return { url: `http://127.0.0.1:${port}`, close: () => server.forceShutdown() };
}
