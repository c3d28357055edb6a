import { connect, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';

/** How a raw client reaches the port: plain TCP, or TLS offering one ALPN protocol (the certificate is not checked). */
export type Transport = 'tcp' | 'tls-http1' | 'tls-h2';

/**
 * A plain TCP (or TLS) connection to 127.0.0.1, for requests an HTTP client refuses
 * to send (slow, pipelined, oversized, malformed). Everything received is
 * kept as latin1 text, so bytes map one to one onto characters.
 */
export class RawClient {
  /** Everything received so far. */
  received = '';
  /** True once the connection has closed, either side having closed it. */
  closed = false;
  private readonly closing: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (this.received += chunk));
    // A reset is one of the outcomes under test: it shows as `closed`.
    socket.on('error', () => {});
    this.closing = new Promise((resolve) =>
      socket.once('close', () => {
        this.closed = true;
        resolve();
      }),
    );
  }

  /** Opens a connection to 127.0.0.1:`port`, over TLS unless `transport` is `tcp`. */
  static connect(port: number, transport: Transport = 'tcp'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = transport === 'tcp' ? connect(port, '127.0.0.1') : connectTls({ port, host: '127.0.0.1', rejectUnauthorized: false, ALPNProtocols: [transport === 'tls-h2' ? 'h2' : 'http/1.1'] });
      socket.once('error', reject);
      socket.once(transport === 'tcp' ? 'connect' : 'secureConnect', () => {
        socket.off('error', reject);
        resolve(new RawClient(socket));
      });
    });
  }

  /** Writes `data` in one write call (latin1 for strings). */
  write(data: string | Buffer): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Waits until the peer closes the connection; resolves with everything received. */
  async whenClosed(timeoutMs = 5000): Promise<string> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the server did not close the connection within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.closing, timeout]);
    } finally {
      clearTimeout(timer);
    }
    return this.received;
  }

  /** Closes the connection at once. */
  destroy(): void {
    this.socket.destroy();
  }
}

/**
 * Sends `data` in one write on a fresh connection and resolves with all the
 * bytes received until the server closes it; send `Connection: close` (or
 * something the server rejects) so that it does.
 */
export async function exchange(port: number, data: string | Buffer, timeoutMs = 5000, transport: Transport = 'tcp'): Promise<string> {
  const client = await RawClient.connect(port, transport);
  client.write(data);
  try {
    return await client.whenClosed(timeoutMs);
  } finally {
    client.destroy();
  }
}

/** A request head in HTTP/1.1 wire form: request line, the headers in order, blank line. */
export function requestHead(method: string, target: string, headers: ReadonlyArray<readonly [string, string]>): string {
  return `${method} ${target} HTTP/1.1\r\n${headers.map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n`;
}

/** One HTTP/1.1 response read off the wire. */
export interface RawResponse {
  status: number;
  /** Header names in lower case; a repeated header keeps its last value. */
  headers: Map<string, string>;
  body: string;
}

/**
 * Decodes a chunked body starting at `offset`; resolves the body and where
 * the message ends, or undefined when it is not complete yet (trailers are
 * not supported).
 */
function dechunk(text: string, offset: number): { body: string; end: number } | undefined {
  let body = '';
  for (;;) {
    const lineEnd = text.indexOf('\r\n', offset);
    if (lineEnd === -1) return undefined;
    const size = parseInt(text.slice(offset, lineEnd), 16);
    const dataStart = lineEnd + 2;
    if (text.length < dataStart + size + 2) return undefined;
    if (size === 0) return { body, end: dataStart + 2 };
    body += text.slice(dataStart, dataStart + size);
    offset = dataStart + size + 2;
  }
}

/**
 * Splits the start of `text` into consecutive responses, each framed by its
 * Content-Length or chunked encoding (neither means no body). Stops at the
 * first incomplete one.
 *
 * @param bodiless - the responses answer HEAD requests: none has a body, whatever its headers say
 */
export function parseResponses(text: string, bodiless = false): RawResponse[] {
  const responses: RawResponse[] = [];
  let offset = 0;
  for (;;) {
    const headEnd = text.indexOf('\r\n\r\n', offset);
    if (headEnd === -1) return responses;
    const [statusLine = '', ...lines] = text.slice(offset, headEnd).split('\r\n');
    const headers = new Map<string, string>();
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
    }
    const status = Number(statusLine.split(' ')[1]);
    const bodyStart = headEnd + 4;
    if (bodiless) {
      responses.push({ status, headers, body: '' });
      offset = bodyStart;
    } else if (headers.get('transfer-encoding') === 'chunked') {
      const chunked = dechunk(text, bodyStart);
      if (chunked === undefined) return responses;
      responses.push({ status, headers, body: chunked.body });
      offset = chunked.end;
    } else {
      const length = Number(headers.get('content-length') ?? 0);
      if (text.length < bodyStart + length) return responses;
      responses.push({ status, headers, body: text.slice(bodyStart, bodyStart + length) });
      offset = bodyStart + length;
    }
  }
}

/** The status code of the first response in `text`, or 0 when nothing that looks like a status line arrived. */
export function statusOf(text: string): number {
  const match = /^HTTP\/1\.1 (\d{3}) /.exec(text);
  return match === null ? 0 : Number(match[1]);
}
