import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cache/**', 'public/**', 'tools/train/**', 'dev-dist/**', 'bench-results/**', 'test-results/**', '.device/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        console: 'readonly',
        process: 'readonly',
        self: 'readonly',
        window: 'readonly',
        document: 'readonly',
        navigator: 'readonly',
        URL: 'readonly',
        fetch: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        performance: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        Blob: 'readonly',
        File: 'readonly',
        Response: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // The layers point one way: the page and the Worker use the engine, never the reverse. The types they
    // share live in src/api (protocol.ts), so nothing below the Worker needs to import from it.
    files: ['src/engine/**', 'src/gpu/**', 'src/model/**', 'src/gguf/**', 'src/api/**', 'src/cli/**', 'src/server/**', 'src/bench/**', 'src/tools/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/worker/*', '**/worker'], message: 'src/worker is the page-side Worker entry: shared types live in src/api.' }] },
      ],
    },
  },
);
