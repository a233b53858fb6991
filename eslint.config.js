// Lint rules: ESLint's and typescript-eslint's recommended sets (syntax-level, no type information,
// so the whole tree lints in seconds); formatting is Prettier's job.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // runs/ and demo/ are git-ignored output folders (training runs, studies, the demo's files)
  { ignores: ['dist/**', 'node_modules/**', 'web/dist/**', '**/*.cjs', 'runs/**', 'demo/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  // chai's property assertions (`expect(x).to.be.true`) are expressions by design.
  { files: ['test/**/*.ts'], rules: { '@typescript-eslint/no-unused-expressions': 'off' } },
);
