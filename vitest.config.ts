import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const pkgs = ['core', 'extract', 'transform', 'load', 'cli'] as const;
const src = (p: string) => fileURLToPath(new URL(`./packages/${p}/src/index.ts`, import.meta.url));

// Tests run against the TypeScript sources of sibling packages (no stale dist).
const alias = Object.fromEntries(pkgs.map((p) => [`@sluice/${p}`, src(p)]));

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
