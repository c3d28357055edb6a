/**
 * The part of Go's `text/template` that Knative's request log templates use,
 * compiled once at start-up into a function of one request's fields. Go's
 * semantics are kept byte for byte for that part (values printed as `fmt`'s
 * `%v` prints them, `js` escaping as `template.JSEscapeString`); anything
 * else is refused when the template is compiled, naming the construct, so a
 * template never renders differently from queue-proxy without saying so.
 */

/** The request of one log line: the fields of Go's `*http.Request` a template may read. */
export interface RequestLogRequest {
  /** `Method`, e.g. `GET`. */
  readonly method: string;
  /** `RequestURI`: the request target as the client sent it. */
  readonly requestURI: string;
  /** `ContentLength` in bytes: 0 without a body, -1 when unknown (chunked), as Go's server sets it. */
  readonly contentLength: number;
  /** `Proto`: `HTTP/1.1` or `HTTP/2.0`. */
  readonly proto: string;
  /** `RemoteAddr`: `ip:port`, `[ip]:port` for IPv6. */
  readonly remoteAddr: string;
  /** `Host`: the Host header (`:authority` in HTTP/2). */
  readonly host: string;
  /** The first value of a header, `undefined` when absent: Go's `Header.Get`. */
  header(lowerName: string): string | undefined;
}

/** Knative's `RequestLogResponse`. */
export interface RequestLogResponse {
  /** `Code`: the HTTP status. */
  readonly code: number;
  /** `Size`: the response body's length in bytes. */
  readonly size: number;
  /** `Latency` in seconds (a Go float64). */
  readonly latencySeconds: number;
}

/** Knative's `RequestLogRevision`. */
export interface RequestLogRevision {
  readonly name: string;
  readonly namespace: string;
  readonly service: string;
  readonly configuration: string;
  readonly podName: string;
  readonly podIP: string;
}

/** Knative's `RequestLogTemplateInput`: what a request log template is executed over. */
export interface RequestLogInput {
  readonly request: RequestLogRequest;
  readonly response: RequestLogResponse;
  readonly revision: RequestLogRevision;
  /** The W3C or B3 trace id of the request, `''` when it has none. */
  readonly traceID: string;
}

/** A template used a construct outside the supported part of Go's `text/template`. */
export class UnsupportedTemplateError extends Error {
  /** The construct refused, as written in the template. */
  readonly construct: string;

  /** @param construct - the refused construct; @param reason - why, in a few words */
  constructor(construct: string, reason: string) {
    super(`${reason}: ${construct}`);
    this.name = 'UnsupportedTemplateError';
    this.construct = construct;
  }
}

type Value = string | { readonly int: number } | { readonly float: number };
type Getter = (input: RequestLogInput) => Value;

const int = (n: number): Value => ({ int: n });

/** The fields reachable with a `.Path`, each a Go string, int or float64. */
const FIELDS: Readonly<Record<string, Getter>> = {
  '.Request.Method': (i) => i.request.method,
  '.Request.RequestURI': (i) => i.request.requestURI,
  '.Request.ContentLength': (i) => int(i.request.contentLength),
  '.Request.Proto': (i) => i.request.proto,
  '.Request.RemoteAddr': (i) => i.request.remoteAddr,
  '.Request.Host': (i) => i.request.host,
  // Methods of *http.Request: Header.Get of one name.
  '.Request.UserAgent': (i) => i.request.header('user-agent') ?? '',
  '.Request.Referer': (i) => i.request.header('referer') ?? '',
  '.Response.Code': (i) => int(i.response.code),
  '.Response.Size': (i) => int(i.response.size),
  '.Response.Latency': (i) => ({ float: i.response.latencySeconds }),
  '.Revision.Name': (i) => i.revision.name,
  '.Revision.Namespace': (i) => i.revision.namespace,
  '.Revision.Service': (i) => i.revision.service,
  '.Revision.Configuration': (i) => i.revision.configuration,
  '.Revision.PodName': (i) => i.revision.podName,
  '.Revision.PodIP': (i) => i.revision.podIP,
  '.TraceID': (i) => i.traceID,
};

/**
 * A float64 as Go's `%v` prints it: `strconv.FormatFloat(f, 'g', -1, 64)`,
 * the shortest digits that round-trip (the same digits JavaScript picks),
 * in exponent form when the decimal exponent is below -4 or at least 6
 * (strconv's rule for shortest `'g'`), with at least two exponent digits.
 */
export function formatGoFloat(f: number): string {
  if (Number.isNaN(f)) return 'NaN';
  if (!Number.isFinite(f)) return f > 0 ? '+Inf' : '-Inf';
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  // A latency's usual range: decimal exponent -4 to 5, where both languages write the same shortest digits in decimal form.
  const size = Math.abs(f);
  if (size >= 1e-4 && size < 1e6) return String(f);
  const [mantissa, exponentText] = f.toExponential().split('e') as [string, string];
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 6) {
    const digits = Math.abs(exponent) < 10 ? `0${Math.abs(exponent)}` : String(Math.abs(exponent));
    return `${mantissa}e${exponent < 0 ? '-' : '+'}${digits}`;
  }
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  const point = exponent + 1;
  const body = point <= 0 ? `0.${'0'.repeat(-point)}${digits}` : point >= digits.length ? digits + '0'.repeat(point - digits.length) : `${digits.slice(0, point)}.${digits.slice(point)}`;
  return negative ? `-${body}` : body;
}

function print(value: Value): string {
  if (typeof value === 'string') return value;
  return 'int' in value ? String(value.int) : formatGoFloat(value.float);
}

/** Go's escapes of the ASCII characters it does not copy as they are: quotes, backslash and `<>&=`. */
const JS_ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', "'": "\\'", '"': '\\"', '<': '\\u003C', '>': '\\u003E', '&': '\\u0026', '=': '\\u003D' };

/** A character {@link jsEscape} may have to change: any but printable ASCII without quotes, backslash or `<>&=` (DEL and characters above ASCII are looked at). */
const MAY_ESCAPE = /[^ !#-%(-;?-[\]-~]/;

/**
 * Each code point {@link jsEscape} changes: quotes, backslash, `<>&=`, control
 * characters below U+0020, and each code point above DEL that Go's
 * `unicode.IsPrint` refuses, i.e. not a letter, mark, number, punctuation or
 * symbol: C1 controls, spaces other than U+0020, format and private-use
 * characters, unassigned code points, lone surrogates.
 */
const TO_ESCAPE = /[\\'"<>&=]|[^ -\x7f\p{L}\p{M}\p{N}\p{P}\p{S}]/gu;

/** Go's escape of one code point {@link TO_ESCAPE} matched: its own for quotes, backslash and `<>&=`, else `\uXXXX` in upper-case hex (five or six digits above U+FFFF). */
function escapeCodePoint(ch: string): string {
  return JS_ESCAPES[ch] ?? `\\u${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** {@link jsEscape}'s output for each ASCII character, by character code; `undefined` for the characters copied as they are. */
const ASCII_ESCAPES: ReadonlyArray<string | undefined> = Array.from({ length: 0x80 }, (_, code) => {
  const ch = String.fromCharCode(code);
  const escaped = ch.replace(TO_ESCAPE, escapeCodePoint);
  return escaped === ch ? undefined : escaped;
});

/**
 * Go's `template.JSEscapeString`: quotes, backslash and `<>&=` escaped, control and unprintable characters as `\uXXXX`.
 * ASCII text is escaped from a table of the ASCII characters, one pass copying the runs between escapes; text with a
 * character above ASCII, rare in a request line's fields, through {@link TO_ESCAPE}'s Unicode classes.
 */
export function jsEscape(text: string): string {
  const first = text.search(MAY_ESCAPE);
  if (first === -1) return text;
  let out = '';
  let copied = 0;
  for (let i = first; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x80) return text.replace(TO_ESCAPE, escapeCodePoint);
    const escaped = ASCII_ESCAPES[code];
    if (escaped !== undefined) {
      out += text.slice(copied, i) + escaped;
      copied = i + 1;
    }
  }
  return out + text.slice(copied);
}

/** A Go interpreted string literal with the escapes a header name could need. */
function stringLiteral(token: string): string | undefined {
  if (!/^"(?:[^"\\]|\\["\\])*"$/.test(token)) return undefined;
  return token.slice(1, -1).replace(/\\(["\\])/g, '$1');
}

/** One action's pipeline, e.g. `.Request.Method`, `js .Request.Referer`, `.Request.Header.Get "X-Id"`, `js (.Request.Header.Get "X-Id")`. */
function compileAction(action: string): (input: RequestLogInput) => string {
  const tokenise = (text: string): string[] => text.match(/"(?:[^"\\]|\\.)*"|\S+/g) ?? [];
  const refuse = (): never => {
    throw new UnsupportedTemplateError(`{{${action}}}`, 'unsupported template action');
  };
  const operand = (tokens: readonly string[]): Getter => {
    const [first, second] = tokens;
    if (tokens.length === 1 && first !== undefined) {
      const field = FIELDS[first];
      if (field !== undefined) return field;
      const literal = stringLiteral(first);
      if (literal !== undefined) return () => literal;
    }
    if (tokens.length === 2 && first === '.Request.Header.Get' && second !== undefined) {
      const name = stringLiteral(second);
      if (name !== undefined) {
        const lower = name.toLowerCase();
        return (i) => i.request.header(lower) ?? '';
      }
    }
    return refuse();
  };
  const words = tokenise(action);
  if (words[0] === 'js') {
    // Go passes `js` its arguments one by one: a method call with arguments must be parenthesised, `js (.Request.Header.Get "X")`.
    const group = /^\((.*)\)$/.exec(action.trim().slice(2).trim());
    const inner = group !== null ? operand(tokenise(group[1]!)) : words.length === 2 ? operand(words.slice(1)) : refuse();
    return (i) => jsEscape(print(inner(i)));
  }
  const get = operand(words);
  return (i) => print(get(i));
}

/**
 * Compiles a request log template. Supported: text; `{{.Field}}` for the
 * fields of {@link RequestLogInput} Knative documents (`.Request.Method`,
 * `.RequestURI`, `.ContentLength`, `.Proto`, `.RemoteAddr`, `.Host`,
 * `.UserAgent`, `.Referer`, `.Header.Get "Name"`; `.Response.Code`, `.Size`,
 * `.Latency`; every `.Revision` field; `.TraceID`); the `js` function of one
 * of those; `{{- ` / ` -}}` trimming; `{{/* comments *\/}}`. As Knative does,
 * a newline is appended when the template does not end with one.
 *
 * @throws UnsupportedTemplateError naming the first construct outside that set
 */
export function compileRequestLogTemplate(source: string): (input: RequestLogInput) => string {
  const text = source.endsWith('\n') ? source : `${source}\n`;
  const parts: Array<string | ((input: RequestLogInput) => string)> = [];
  let rest = text;
  let trimNext = false;
  while (rest.length > 0) {
    const open = rest.indexOf('{{');
    let literal = open === -1 ? rest : rest.slice(0, open);
    if (trimNext) literal = literal.replace(/^[ \t\r\n]+/, '');
    if (open === -1) {
      parts.push(literal);
      break;
    }
    const close = rest.indexOf('}}', open + 2);
    if (close === -1) throw new UnsupportedTemplateError(rest.slice(open), 'unclosed action');
    let inner = rest.slice(open + 2, close);
    // Go trims only with a space after `{{-` and before `-}}`; `{{-3}}` is the number -3.
    if (/^-[ \t\r\n]/.test(inner)) {
      literal = literal.replace(/[ \t\r\n]+$/, '');
      inner = inner.slice(1);
    }
    trimNext = /[ \t\r\n]-$/.test(inner);
    if (trimNext) inner = inner.slice(0, -1);
    parts.push(literal);
    const trimmed = inner.trim();
    if (!(trimmed.startsWith('/*') && trimmed.endsWith('*/'))) parts.push(compileAction(inner));
    rest = rest.slice(close + 2);
  }
  const pieces = parts.filter((p) => p !== '');
  return (input) => {
    let out = '';
    for (const piece of pieces) out += typeof piece === 'string' ? piece : piece(input);
    return out;
  };
}
