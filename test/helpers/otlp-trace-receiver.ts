import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import protobuf from 'protobufjs/light.js';
import { until } from './http.js';
import { serveGrpcExports, TRACE_EXPORT } from './otlp-grpc-server.js';

/**
 * The parts of the OTLP trace protos (opentelemetry-proto
 * collector/trace/v1/trace_service.proto, trace/v1/trace.proto,
 * common/v1/common.proto, resource/v1/resource.proto) these tests read, with
 * the field numbers given there. Field names are the proto names in
 * lowerCamelCase, which is also how OTLP/JSON spells them.
 */
const TRACE_PROTO = protobuf.Root.fromJSON({
  nested: {
    ExportTraceServiceRequest: { fields: { resourceSpans: { rule: 'repeated', type: 'ResourceSpans', id: 1 } } },
    ResourceSpans: { fields: { resource: { type: 'Resource', id: 1 }, scopeSpans: { rule: 'repeated', type: 'ScopeSpans', id: 2 } } },
    Resource: { fields: { attributes: { rule: 'repeated', type: 'KeyValue', id: 1 } } },
    ScopeSpans: { fields: { scope: { type: 'InstrumentationScope', id: 1 }, spans: { rule: 'repeated', type: 'Span', id: 2 } } },
    InstrumentationScope: { fields: { name: { type: 'string', id: 1 }, version: { type: 'string', id: 2 } } },
    Span: {
      fields: {
        traceId: { type: 'bytes', id: 1 },
        spanId: { type: 'bytes', id: 2 },
        traceState: { type: 'string', id: 3 },
        parentSpanId: { type: 'bytes', id: 4 },
        name: { type: 'string', id: 5 },
        kind: { type: 'int32', id: 6 },
        startTimeUnixNano: { type: 'fixed64', id: 7 },
        endTimeUnixNano: { type: 'fixed64', id: 8 },
        attributes: { rule: 'repeated', type: 'KeyValue', id: 9 },
        status: { type: 'Status', id: 15 },
      },
    },
    Status: { fields: { message: { type: 'string', id: 2 }, code: { type: 'int32', id: 3 } } },
    KeyValue: { fields: { key: { type: 'string', id: 1 }, value: { type: 'AnyValue', id: 2 } } },
    AnyValue: {
      fields: { stringValue: { type: 'string', id: 1 }, boolValue: { type: 'bool', id: 2 }, intValue: { type: 'int64', id: 3 }, doubleValue: { type: 'double', id: 4 } },
    },
  },
}).lookupType('ExportTraceServiceRequest');

/** OTLP's span kinds (trace.proto `SpanKind`). */
export const KIND = { INTERNAL: 1, SERVER: 2, CLIENT: 3 } as const;

/** A span as received, ids in lower-case hex (empty when absent), times in nanoseconds since the epoch. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  traceState: string;
  name: string;
  kind: number;
  startNs: bigint;
  endNs: bigint;
  attributes: Record<string, string | number | boolean>;
  statusCode: number;
  scope: string;
  resource: Record<string, string | number | boolean>;
}

interface RawKeyValue {
  key: string;
  value?: { stringValue?: string; boolValue?: boolean; intValue?: string | number; doubleValue?: number };
}

interface RawSpan {
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  traceState?: string;
  name: string;
  kind?: number;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  attributes?: RawKeyValue[];
  status?: { code?: number };
}

interface RawRequest {
  resourceSpans?: { resource?: { attributes?: RawKeyValue[] }; scopeSpans?: { scope?: { name?: string }; spans?: RawSpan[] }[] }[];
}

function attributes(list: RawKeyValue[] | undefined): Record<string, string | number | boolean> {
  const result: Record<string, string | number | boolean> = {};
  for (const { key, value = {} } of list ?? []) {
    result[key] = value.stringValue ?? value.boolValue ?? (value.intValue === undefined ? value.doubleValue! : Number(value.intValue));
  }
  return result;
}

/** An OTLP/protobuf export request as these tests read it. */
function decodeProtobuf(body: Buffer): RawRequest {
  return TRACE_PROTO.toObject(TRACE_PROTO.decode(body), { longs: String, bytes: String, defaults: false });
}

/** A minimal OTLP traces receiver on 127.0.0.1: decodes every POST (protobuf or JSON), and with {@link TraceReceiver.startGrpc} every gRPC export call, into {@link ReceivedSpan}s. */
export class TraceReceiver {
  readonly spans: ReceivedSpan[] = [];
  /** The `Content-Type` of each POST, in order. */
  readonly contentTypes: string[] = [];
  /** The metadata of each gRPC export call, in order. */
  readonly grpcMetadata: Record<string, string>[] = [];
  private server: Server | undefined;
  private closeGrpc: (() => void) | undefined;
  port = 0;

  /** The URL spans are to be POSTed to. */
  get url(): string {
    return `http://127.0.0.1:${this.port}/v1/traces`;
  }

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks);
        const type = request.headers['content-type'] ?? '';
        this.contentTypes.push(type);
        const json = type.startsWith('application/json');
        this.record(json ? (JSON.parse(body.toString()) as RawRequest) : decodeProtobuf(body), json);
        response.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
        response.end(json ? '{}' : '');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /**
   * Also takes spans over OTLP/gRPC, on a gRPC server of its own (see
   * {@link serveGrpcExports}); each call's metadata goes to `grpcMetadata`.
   *
   * @returns the URL to export to over gRPC
   */
  async startGrpc(): Promise<string> {
    const grpc = await serveGrpcExports(TRACE_EXPORT, ({ body, metadata }) => {
      this.contentTypes.push('application/grpc');
      this.grpcMetadata.push(metadata);
      this.record(decodeProtobuf(body), false);
    });
    this.closeGrpc = grpc.close;
    return grpc.url;
  }

  private record(raw: RawRequest, json: boolean): void {
    // Protobuf bytes come out in base64; OTLP/JSON writes ids in hex.
    const id = (value: string | undefined): string => (value === undefined || value === '' ? '' : json ? value.toLowerCase() : Buffer.from(value, 'base64').toString('hex'));
    for (const resourceSpans of raw.resourceSpans ?? []) {
      const resource = attributes(resourceSpans.resource?.attributes);
      for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
        for (const span of scopeSpans.spans ?? []) {
          this.spans.push({
            traceId: id(span.traceId),
            spanId: id(span.spanId),
            parentSpanId: id(span.parentSpanId),
            traceState: span.traceState ?? '',
            name: span.name,
            kind: span.kind ?? 0,
            startNs: BigInt(span.startTimeUnixNano),
            endNs: BigInt(span.endTimeUnixNano),
            attributes: attributes(span.attributes),
            statusCode: span.status?.code ?? 0,
            scope: scopeSpans.scope?.name ?? '',
            resource,
          });
        }
      }
    }
  }

  /** Waits until at least `count` spans arrived. */
  async waitFor(count: number, timeoutMs = 10_000): Promise<ReceivedSpan[]> {
    await until(() => this.spans.length >= count, `${count} spans (got ${this.spans.length})`, timeoutMs);
    return this.spans;
  }

  async close(): Promise<void> {
    this.closeGrpc?.();
    const server = this.server;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
