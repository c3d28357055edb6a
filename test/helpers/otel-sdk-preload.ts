/**
 * A preload that runs the OpenTelemetry Node SDK as an app's own tracing does (`@opentelemetry/sdk-node` with
 * `@opentelemetry/instrumentation-http`), each span sent at once over OTLP/HTTP (protobuf) to `TEST_TRACES_URL`.
 * ESM imports of `node:http` are patched through the instrumentation's own loader hook, registered first, as its
 * documentation asks. Import it before the register mode.
 */
import { register } from 'node:module';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
new NodeSDK({
  spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: process.env['TEST_TRACES_URL'] }))],
  instrumentations: [new HttpInstrumentation()],
}).start();
