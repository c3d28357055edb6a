import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { compileRequestLogTemplate, formatGoFloat, jsEscape, UnsupportedTemplateError, type RequestLogInput } from '../src/log/go-template.js';

/** Knative's default `logging.request-log-template` (config/core/configmaps/observability.yaml). */
const KNATIVE_DEFAULT =
  '{"httpRequest": {"requestMethod": "{{.Request.Method}}", "requestUrl": "{{js .Request.RequestURI}}", "requestSize": "{{.Request.ContentLength}}", "status": {{.Response.Code}}, "responseSize": "{{.Response.Size}}", "userAgent": "{{js .Request.UserAgent}}", "remoteIp": "{{js .Request.RemoteAddr}}", "serverIp": "{{.Revision.PodIP}}", "referer": "{{js .Request.Referer}}", "latency": "{{.Response.Latency}}s", "protocol": "{{.Request.Proto}}"}, "traceId": "{{.TraceID}}"}';

interface Case {
  method: string;
  requestURI: string;
  contentLength: number;
  proto: string;
  remoteAddr: string;
  host: string;
  headers: Record<string, string>;
  code: number;
  size: number;
  latency: number;
  traceID: string;
}

/** A GET whose strings need no escaping. */
const PLAIN: Case = {
  method: 'GET',
  requestURI: '/plain-ascii_~',
  contentLength: 0,
  proto: 'HTTP/1.1',
  remoteAddr: '10.0.0.1:1',
  host: 'c',
  headers: { 'User-Agent': 'wrk' },
  code: 200,
  size: 0,
  latency: 0,
  traceID: '',
};

/**
 * Strings at the edges of `js` escaping: each escaped ASCII character, control characters and DEL, an escape before
 * and after a character above ASCII, printable and unprintable characters above ASCII in and out of the BMP.
 */
const ESCAPE_EDGES = [
  '\\',
  "'",
  '"',
  '<',
  '>',
  '&',
  '=',
  '\x00\x01\x1f\x7f ~',
  'a=b\té',
  'é=\n',
  'π日本語',
  '\u0085\u00a0\u00ad\u200b\u2028\u2029\u3000\ufeff',
  '\u{1F600}=\u{1F600}',
  '\u{E0001}\u{F0000}\u{10FFFF}',
  'e\u0301',
  `${'x'.repeat(40)}"`,
];

const CASES: Case[] = [
  { method: 'GET', requestURI: '/', contentLength: 0, proto: 'HTTP/1.1', remoteAddr: '127.0.0.1:40000', host: 'a.example', headers: {}, code: 200, size: 0, latency: 0.001234, traceID: '' },
  {
    method: 'POST',
    requestURI: "/p?q=<x>&y='z'\"",
    contentLength: -1,
    proto: 'HTTP/2.0',
    remoteAddr: '[::1]:5',
    host: 'b',
    headers: { 'User-Agent': 'curl/8.5.0 \\ é\u2028\u00a0', Referer: 'http://r/?a=1&b=2', 'X-Id': 'v\tw' },
    code: 503,
    size: 12345,
    latency: 0.00001,
    traceID: '4bf92f3577b34da6a3ce929d0e0e4736',
  },
  { method: 'PUT', requestURI: '/big', contentLength: 1048576, proto: 'HTTP/1.1', remoteAddr: '10.0.0.1:1', host: 'c', headers: {}, code: 201, size: 3, latency: 1234567.5, traceID: '' },
  { method: 'GET', requestURI: '/z', contentLength: 0, proto: 'HTTP/1.1', remoteAddr: '10.0.0.1:1', host: 'c', headers: {}, code: 200, size: 3, latency: 12.5, traceID: '' },
  // Latencies at the edges of the decimal form (exponents -4 and 5) and a typical one with 17 digits; plain ASCII to escape nothing.
  ...[0.0001, 999999.9999999999, 0.01988453599999997, 0.00009999].map((latency) => ({ ...PLAIN, latency })),
  // Every escaped field of the templates over each edge of the escaping.
  ...ESCAPE_EDGES.map((text) => ({ ...PLAIN, requestURI: `/${text}`, remoteAddr: text, headers: { 'User-Agent': text, Referer: `${text}${text}`, 'X-Id': text } })),
];

const TEMPLATES = [
  KNATIVE_DEFAULT,
  '{{.Request.Host}} {{.Request.Header.Get "x-id"}} {{js (.Request.Header.Get "X-Id")}} {{.Revision.Name}}/{{.Revision.Namespace}}/{{.Revision.Service}}/{{.Revision.Configuration}}/{{.Revision.PodName}}\n',
  'a  {{- .Response.Code -}}  b {{/* note */}}{{js "lit<"}}',
];

const REVISION = { name: 'hello-00001', namespace: 'default', service: 'hello', configuration: 'hello', podName: 'hello-00001-deployment-x', podIP: '10.1.2.3' };

function inputOf(c: Case): RequestLogInput {
  const headers = new Map(Object.entries(c.headers).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    request: { method: c.method, requestURI: c.requestURI, contentLength: c.contentLength, proto: c.proto, remoteAddr: c.remoteAddr, host: c.host, header: (name) => headers.get(name) },
    response: { code: c.code, size: c.size, latencySeconds: c.latency },
    revision: REVISION,
    traceID: c.traceID,
  };
}

/** Renders each template over each case with Go's own text/template and Knative's input types. */
const GO_PROGRAM = `package main

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"text/template"
)

type Revision struct{ Name, Namespace, Service, Configuration, PodName, PodIP string }
type Response struct {
	Code    int
	Size    int
	Latency float64
}
type Input struct {
	Request  *http.Request
	Response *Response
	Revision *Revision
	TraceID  string
}
type Case struct {
	Method, RequestURI, Proto, RemoteAddr, Host, TraceID string
	ContentLength                                        int64
	Headers                                              map[string]string
	Code, Size                                           int
	Latency                                              float64
}

func main() {
	var in struct {
		Templates []string
		Cases     []Case
		Revision  Revision
	}
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		panic(err)
	}
	out := []string{}
	for _, text := range in.Templates {
		if !strings.HasSuffix(text, "\\n") {
			text += "\\n"
		}
		t := template.Must(template.New("requestLog").Parse(text))
		for _, c := range in.Cases {
			h := http.Header{}
			for k, v := range c.Headers {
				h.Set(k, v)
			}
			r := &http.Request{Method: c.Method, RequestURI: c.RequestURI, Proto: c.Proto, RemoteAddr: c.RemoteAddr, Host: c.Host, ContentLength: c.ContentLength, Header: h}
			var b strings.Builder
			if err := t.Execute(&b, Input{r, &Response{c.Code, c.Size, c.Latency}, &in.Revision, c.TraceID}); err != nil {
				panic(err)
			}
			out = append(out, b.String())
		}
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
`;

async function goRender(): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'go-template-'));
  try {
    await writeFile(join(dir, 'main.go'), GO_PROGRAM);
    const revision = { Name: REVISION.name, Namespace: REVISION.namespace, Service: REVISION.service, Configuration: REVISION.configuration, PodName: REVISION.podName, PodIP: REVISION.podIP };
    const cases = CASES.map((c) => ({ ...c, Headers: c.headers }));
    const child = promisify(execFile)('go', ['run', join(dir, 'main.go')], { env: { ...process.env, GOCACHE: join(dir, 'cache'), GOPATH: join(dir, 'gopath'), GO111MODULE: 'off' }, timeout: 120_000 });
    child.child.stdin!.end(JSON.stringify({ Templates: TEMPLATES, Cases: cases, Revision: revision }));
    return JSON.parse((await child).stdout) as string[];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('request log templates render as Go text/template does', () => {
  it('gives Go’s bytes for Knative’s default template and every supported field and function (checked by a real Go program)', async () => {
    const expected = await goRender();
    const actual = TEMPLATES.flatMap((t) => CASES.map((c) => compileRequestLogTemplate(t)(inputOf(c))));
    assert.deepEqual(actual, expected);
  });
});

describe('formatGoFloat (Go %v of a float64)', () => {
  for (const [value, text] of [
    [0.001234, '0.001234'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [1.5e-7, '1.5e-07'],
    [100, '100'],
    [123456, '123456'],
    [1234567, '1.234567e+06'],
    [1e20, '1e+20'],
    [1e100, '1e+100'],
    [-2.5, '-2.5'],
    [0, '0'],
  ] as const) {
    it(`${value} prints as ${text}`, () => assert.equal(formatGoFloat(value), text));
  }
});

describe('jsEscape (Go template.JSEscapeString)', () => {
  it('escapes quotes, backslash, <>&=, control and unprintable characters', () => {
    assert.equal(jsEscape('a<b>&=\'"\\\n\u00a0é\u2028'), 'a\\u003Cb\\u003E\\u0026\\u003D\\\'\\"\\\\\\u000A\\u00A0é\\u2028');
  });
  it('gives what a character-by-character escaping gives, for any string (lone surrogates included)', () => {
    const unit = fc.oneof(
      fc.constantFrom(...'\\\'"<>&=\x00\x1f\x7f', '\ud800', '\udfff', '\u00a0', '\u2028'),
      fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 1 }),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    );
    fc.assert(
      fc.property(fc.array(unit, { maxLength: 30 }), (units) => {
        const text = units.join('');
        assert.equal(jsEscape(text), jsEscapeByCharacter(text));
      }),
      { numRuns: 1000 },
    );
  });
});

/** Go's JSEscapeString as Go writes it, one code point at a time: the reference the tables and Unicode classes of jsEscape are checked against. */
function jsEscapeByCharacter(text: string): string {
  const known: Readonly<Record<string, string>> = { '\\': '\\\\', "'": "\\'", '"': '\\"', '<': '\\u003C', '>': '\\u003E', '&': '\\u0026', '=': '\\u003D' };
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (known[ch] !== undefined) out += known[ch];
    else if (code < 0x20) out += `\\u00${code.toString(16).toUpperCase().padStart(2, '0')}`;
    else if (code < 0x80 || /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(ch)) out += ch;
    else out += `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return out;
}

describe('unsupported constructs are refused when compiled, naming the construct', () => {
  for (const [template, construct] of [
    ['{{.Request.URL}}', '{{.Request.URL}}'],
    ['x {{if .TraceID}}t{{end}}', '{{if .TraceID}}'],
    ['{{printf "%q" .Request.Method}}', '{{printf "%q" .Request.Method}}'],
    ['{{.Request.Method | js}}', '{{.Request.Method | js}}'],
    ['{{$x := 1}}', '{{$x := 1}}'],
    // Go would call Get with no argument and fail at every request: refused up front.
    ['{{js .Request.Header.Get "X-Id"}}', '{{js .Request.Header.Get "X-Id"}}'],
    ['{{.Request.Method', '{{.Request.Method\n'],
  ] as const) {
    it(construct, () => {
      assert.throws(
        () => compileRequestLogTemplate(template),
        (error: unknown) => error instanceof UnsupportedTemplateError && error.construct === construct,
      );
    });
  }
});
