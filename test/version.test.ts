import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, rm } from 'node:fs/promises';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PACKAGE_NAME, VERSION } from '../src/core/version.js';

const ROOT = new URL('../../', import.meta.url);

describe('VERSION', () => {
  it("is the version in the package's own package.json", async () => {
    const pkg = JSON.parse(await readFile(new URL('package.json', ROOT), 'utf8')) as { name: string; version: string };
    assert.equal(PACKAGE_NAME, pkg.name);
    assert.equal(VERSION, pkg.version);
  });

  describe('from a compiled file in another folder of the package', () => {
    const nested = new URL('build/version-test/a/b/', ROOT);
    after(() => rm(new URL('build/version-test/', ROOT), { recursive: true, force: true }));

    it('reads the same package.json', async () => {
      await mkdir(nested, { recursive: true });
      await copyFile(fileURLToPath(new URL('../src/core/version.js', import.meta.url)), fileURLToPath(new URL('version.js', nested)));
      const moved = (await import(new URL('version.js', nested).href)) as { VERSION: string };
      assert.equal(moved.VERSION, VERSION);
    });
  });
});
