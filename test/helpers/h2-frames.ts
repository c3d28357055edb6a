/** The HTTP/2 connection preface a client with prior knowledge sends first. */
export const PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';

/** Frame types (RFC 9113 section 6). */
export const HEADERS = 1;
export const RST_STREAM = 3;
export const SETTINGS = 4;
export const GOAWAY = 7;
export const CONTINUATION = 9;
/** The END_HEADERS flag of a HEADERS frame, and it with END_STREAM. */
export const END_HEADERS = 0x4;
export const END_STREAM_AND_HEADERS = 0x5;
/** Error codes (RFC 9113 section 7). */
export const PROTOCOL_ERROR = 1;
export const FRAME_SIZE_ERROR = 6;
export const REFUSED_STREAM = 7;

/** One HTTP/2 frame in wire form (RFC 9113 section 4.1), for input no HTTP/2 client would send. */
export function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head.writeUInt8(type, 3);
  head.writeUInt8(flags, 4);
  head.writeUInt32BE(streamId, 5);
  return Buffer.concat([head, payload]);
}

/** A header block of HPACK literals without indexing (RFC 7541 section 6.2.2), names and values under 127 bytes. */
export function block(fields: Array<[string, string]>): Buffer {
  return Buffer.concat(fields.map(([name, value]) => Buffer.concat([Buffer.from([0, name.length]), Buffer.from(name), Buffer.from([value.length]), Buffer.from(value)])));
}
