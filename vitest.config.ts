import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const pkgs = ['core', 'extract', 'transform', 'load', 'cli'] as const;
const src = (p: string) => fileURLToPath(new URL(`./packages/${p}/src/index.ts`, import.meta.url));

// Tests run against the TypeScript sources of sibling packages (no stale dist).
const alias = [
  { find: /^@sluice\/core\/storage$/, replacement: fileURLToPath(new URL('./packages/core/src/storage/index.ts', import.meta.url)) },
  ...pkgs.map((p) => ({ find: new RegExp(`^@sluice/${p}$`), replacement: src(p) })),
];

export default defineConfig({
  resolve: { alias },
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      ...pkgs.map((p) => ({
        extends: true as const,
        test: { name: p, include: [`packages/${p}/tests/**/*.test.ts`] },
      })),
      { extends: true as const, test: { name: 'lambda', include: ['lambda/tests/**/*.test.ts'] } },
    ],
  },
});
