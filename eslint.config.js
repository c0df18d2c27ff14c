// ESLint here checks correctness only, with the types (style is the formatter's, layering is
// dependency-cruiser's). Run by `npm run lint` and by `npm test`.
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/**', 'node_modules/**'] },
  {
    // The TypeScript the compiler checks (tsconfig.json's include); plain .mjs/.js entry scripts have no types to check against.
    files: ['src/**/*.ts', 'emulators/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'scripts/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // A promise nobody awaits loses its rejection (an unhandled rejection ends the process) and its ordering:
      // a write the caller believes done may not be. Fire-and-forget must be said with `void` and a reason.
      // node:test's test/describe return promises the runner itself tracks (a top-level test is never awaited).
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] },
          ],
        },
      ],
      // `await` on something that is not a promise is a sign the callee's contract was misread.
      '@typescript-eslint/await-thenable': 'error',
      // An async function where a plain callback is expected (a listener, a handler typed `=> void`): whoever
      // calls it drops the promise, so its rejection is unhandled.
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
);
