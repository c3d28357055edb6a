/**
 * Header lookups in Node's `rawHeaders`, the flat name, value, name,
 * value... list. Reading `request.headers` instead would make Node build the
 * parsed header object of every request.
 */

/**
 * Index in `rawHeaders` of the first name at or after `from` equal to
 * `lowerName` in any case, or -1. Lengths are compared first, which skips
 * lower-casing (and allocating) almost every name.
 */
function indexOfHeader(rawHeaders: readonly string[], lowerName: string, from: number): number {
  for (let i = from; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length === lowerName.length && name.toLowerCase() === lowerName) return i;
  }
  return -1;
}

/**
 * The value of the first `lowerName` line, `undefined` when absent: what Go's
 * `Header.Get` returns, so a repeated header matches as Knative matches it.
 *
 * @param lowerName - the header name in lower case
 */
export function firstRawHeaderValue(rawHeaders: readonly string[], lowerName: string): string | undefined {
  const i = indexOfHeader(rawHeaders, lowerName, 0);
  return i === -1 ? undefined : rawHeaders[i + 1];
}

/**
 * The values of every `lowerName` line joined with `, ` (RFC 9110 section
 * 5.3), `undefined` when absent.
 *
 * @param lowerName - the header name in lower case
 */
export function rawHeaderValue(rawHeaders: readonly string[], lowerName: string): string | undefined {
  let value: string | undefined;
  for (let i = indexOfHeader(rawHeaders, lowerName, 0); i !== -1; i = indexOfHeader(rawHeaders, lowerName, i + 2)) {
    value = value === undefined ? rawHeaders[i + 1]! : `${value}, ${rawHeaders[i + 1]!}`;
  }
  return value;
}
