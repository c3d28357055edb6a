// @ts-check
import js from '@eslint/js';
import prettier from 'eslint-config-prettier/flat';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

/**
 * ESLint with typescript-eslint's type-aware recommended rules over src/, test/ and bench/ (the
 * tsconfig.json project), plus a few rules that catch bugs the preset does not. Formatting is
 * Prettier's job: eslint-config-prettier, last, turns off every rule that would fight it.
 */
export default defineConfig(
  { ignores: ['dist/', 'build/', 'node_modules/'] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // node:test's describe() and it() return promises that the runner awaits itself; everything else must be awaited or voided.
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }] }],
      // A switch over a union must name every member (or have a default), so a new member is a compile-time question.
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      // Type-only imports are erased, so importing for a type never loads a module (STYLE.md: index.ts loads only what the reporter needs).
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-import-type-side-effects': 'error',
      // `return await` inside try, so that its catch and finally see the rejection.
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      eqeqeq: 'error',
      // Passing a caught value on (`catch (error) { reject(error) }`) rethrows it as it came; the rule is for rejecting with a string or literal.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
    },
  },
  { files: ['**/*.js'], extends: [tseslint.configs.disableTypeChecked] },
  prettier,
);
