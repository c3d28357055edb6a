import { createSecureContext } from 'node:tls';
import type { TlsCurve } from '../../core/checks.js';
import { TLS_CURVES } from '../../core/defaults.js';
import { ConfigError } from '../../core/errors.js';

/**
 * Checks that the running Node's OpenSSL can use a key-exchange group, by
 * giving it to a TLS context as its only group (an OpenSSL without
 * X25519MLKEM768, before 3.5, refuses it).
 *
 * @param field - the option, flag or variable that named the group, for the message
 * @param group - an OpenSSL group name, such as `X25519MLKEM768`
 * @throws ConfigError `<field>: <group> is not supported by this Node's OpenSSL <version>`
 */
export function requireOpenSslGroup(field: string, group: string): void {
  try {
    createSecureContext({ ecdhCurve: group });
  } catch {
    throw new ConfigError(field, `${field}: ${group} is not supported by this Node's OpenSSL ${process.versions.openssl}`);
  }
}

/**
 * The OpenSSL group names of `curves`, in order and once each (Node's
 * `ecdhCurve`, colon-separated), each checked with {@link requireOpenSslGroup}.
 *
 * @param field - the option, flag or variable that gave the list, for the message
 * @returns undefined for an empty list: Node's default groups, as Go's
 */
export function openSslGroups(field: string, curves: readonly TlsCurve[]): string | undefined {
  const groups = [...new Set(curves.map((curve) => TLS_CURVES[curve]))];
  for (const group of groups) requireOpenSslGroup(field, group);
  return groups.length === 0 ? undefined : groups.join(':');
}
