// @ts-check
/**
 * Refuses, in one line and with exit code 2, to build, test, benchmark or start the project on a
 * Node.js older than package.json's `engines.node` (a lower bound `>=MAJOR.MINOR[.PATCH]`), so
 * that nothing runs silently on a line the project does not support. `scripts/with-node LINE
 * COMMAND` runs a command on a supported line.
 */
import { readFileSync } from 'node:fs';
import { URL } from 'node:url';
import process from 'node:process';

const { engines } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const bound = /^>=(\d+)\.(\d+)(?:\.(\d+))?$/.exec(engines.node);
if (bound === null) {
  process.stderr.write(`scripts/check-node.js: package.json engines.node must read ">=MAJOR.MINOR[.PATCH]", not ${JSON.stringify(engines.node)}\n`);
  process.exit(2);
}
const wanted = bound.slice(1).map((part) => Number(part ?? 0));
const running = process.versions.node.split('.').map(Number);
const order = running.map((part, i) => part - wanted[i]).find((difference) => difference !== 0) ?? 0;
if (order < 0) {
  process.stderr.write(`Node.js ${process.versions.node} is older than the supported ${engines.node} (package.json engines.node): run it as scripts/with-node 24 npm ...\n`);
  process.exit(2);
}
