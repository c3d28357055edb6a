import type { sendUnaryData, ServerDuplexStream, ServerReadableStream, ServerUnaryCall, ServerWritableStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Note } from './grpc.js';

/**
 * The test service's calls, each held for as long as its caller says, for the register mode's gRPC test:
 * `Unary` and `List` (server-streaming) end `Number(note.text)` ms after the request (`List` sends one note at once,
 * then ends), `Collect` (client-streaming) answers when the client ends, `Chat` (bidi) echoes each note and ends when
 * the client does.
 */
export const holdingNotes: UntypedServiceImplementation = {
  Unary(call: ServerUnaryCall<Note, Note>, callback: sendUnaryData<Note>) {
    setTimeout(() => callback(null, { text: 'done' }), Number(call.request.text));
  },
  List(call: ServerWritableStream<Note, Note>) {
    call.write({ text: 'first' });
    setTimeout(() => call.end(), Number(call.request.text));
  },
  Collect(call: ServerReadableStream<Note, Note>, callback: sendUnaryData<Note>) {
    let count = 0;
    call.on('data', () => count++);
    call.on('end', () => callback(null, { text: String(count) }));
  },
  Chat(call: ServerDuplexStream<Note, Note>) {
    call.on('data', (note: Note) => call.write(note));
    call.on('end', () => call.end());
  },
};
