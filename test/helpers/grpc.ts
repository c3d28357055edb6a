import { Client, credentials, Metadata, Server, ServerCredentials, status, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';

/** A message of the test service: JSON, so no .proto is compiled. */
export interface Note {
  text: string;
  /** Filler bytes (as a string) for large messages. */
  pad?: string;
}

const serialize = (value: Note): Buffer => Buffer.from(JSON.stringify(value));
const deserialize = (bytes: Buffer): Note => JSON.parse(bytes.toString()) as Note;

function method(name: string, requestStream: boolean, responseStream: boolean) {
  return {
    path: `/test.Notes/${name}`,
    requestStream,
    responseStream,
    requestSerialize: serialize,
    requestDeserialize: deserialize,
    responseSerialize: serialize,
    responseDeserialize: deserialize,
  };
}

/** The test service's four calls, one of each kind. */
export const NOTES: ServiceDefinition = {
  Unary: method('Unary', false, false),
  List: method('List', false, true),
  Collect: method('Collect', true, false),
  Chat: method('Chat', true, true),
};

/** Starts a @grpc/grpc-js server with `implementation` on 127.0.0.1:`port` (h2c; default a free port); `close` stops it at once. */
export async function startGrpcApp(implementation: UntypedServiceImplementation, port = 0): Promise<{ port: number; close: () => void }> {
  const server = new Server();
  server.addService(NOTES, implementation);
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (error, bound) => (error === null ? resolve(bound) : reject(error))),
  );
  return { port: bound, close: () => server.forceShutdown() };
}

/** A @grpc/grpc-js client of the test service to 127.0.0.1:`port`, over cleartext HTTP/2, or over TLS trusting `rootCert` (PEM). */
export function grpcClient(port: number, rootCert?: string): Client {
  return new Client(`127.0.0.1:${port}`, rootCert === undefined ? credentials.createInsecure() : credentials.createSsl(Buffer.from(rootCert)));
}

/** A unary call; resolves with the answer or rejects with the ServiceError. */
export function unary(client: Client, note: Note, options: { deadlineMs?: number; metadata?: Metadata } = {}): Promise<Note> {
  const callOptions = options.deadlineMs === undefined ? {} : { deadline: Date.now() + options.deadlineMs };
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(NOTES['Unary']!.path, serialize, deserialize, note, options.metadata ?? new Metadata(), callOptions, (error, value) => {
      if (error !== null) reject(error);
      else resolve(value!);
    });
  });
}

/** A server-streaming call. */
export function list(client: Client, note: Note) {
  return client.makeServerStreamRequest(NOTES['List']!.path, serialize, deserialize, note);
}

/** A client-streaming call; `done` gets its one answer. */
export function collect(client: Client, done: (error: Error | null, value?: Note) => void) {
  return client.makeClientStreamRequest(NOTES['Collect']!.path, serialize, deserialize, (error, value) => done(error, value));
}

/** A bidirectional call. */
export function chat(client: Client) {
  return client.makeBidiStreamRequest(NOTES['Chat']!.path, serialize, deserialize);
}

export { Metadata, status };
