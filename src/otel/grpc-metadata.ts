/**
 * The OTLP headers of an export over gRPC. Loaded only by the gRPC
 * exporters' paths, so that `@grpc/grpc-js` stays unloaded otherwise.
 */
import { Metadata } from '@grpc/grpc-js';

/** `headers` (names in lower case, as the OTLP settings hold them) as the gRPC metadata sent with each export call. */
export function grpcMetadata(headers: Readonly<Record<string, string>>): Metadata {
  const metadata = new Metadata();
  for (const [name, value] of Object.entries(headers)) metadata.set(name, value);
  return metadata;
}
