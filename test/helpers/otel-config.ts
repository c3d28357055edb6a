import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

/** The repository root; compiled tests run from build/test/, two levels below it. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The absolute path of a file under otel-config/. */
export const configPath = (relative: string): string => join(ROOT, 'otel-config', relative);

/** Every document of a YAML text, as plain values; fails on any parse error. `where` names the text in messages. */
export function parseYaml(text: string, where: string): unknown[] {
  const docs = parseAllDocuments(text);
  assert.ok(Array.isArray(docs), `${where}: no YAML documents`);
  for (const doc of docs) assert.deepEqual(doc.errors, [], `${where}: ${doc.errors.join('; ')}`);
  return docs.map((doc) => doc.toJS() as unknown);
}

/** Every document of a YAML file. */
export async function loadYaml(path: string): Promise<unknown[]> {
  return parseYaml(await readFile(path, 'utf8'), path);
}

/** The single document of a file under otel-config/; fails when it holds more or fewer. */
export async function loadOne<T>(relative: string): Promise<T> {
  const docs = await loadYaml(configPath(relative));
  assert.equal(docs.length, 1, `${relative} should hold one document`);
  return docs[0] as T;
}
