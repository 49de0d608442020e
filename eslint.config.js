// Lint rules: typescript-eslint's recommended set, plus the house rules from DESIGN.md
// that a linter can check (no enums/namespaces/parameter properties: Node strips types only).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'coverage/**', '**/*.d.ts', '.tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly', Buffer: 'readonly', console: 'readonly', setTimeout: 'readonly',
        clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly',
        URL: 'readonly', Request: 'readonly', Response: 'readonly', Headers: 'readonly', fetch: 'readonly',
        TextEncoder: 'readonly', TextDecoder: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly',
        performance: 'readonly', queueMicrotask: 'readonly', structuredClone: 'readonly', ReadableStream: 'readonly',
      },
    },
    rules: {
      'no-restricted-syntax': ['error',
        { selector: 'TSEnumDeclaration', message: 'enums are not erasable: use a union of string literals' },
        { selector: 'TSModuleDeclaration[kind!="global"]', message: 'namespaces are not erasable' },
        { selector: 'TSParameterProperty', message: 'parameter properties are not erasable' },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'off',
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
);
