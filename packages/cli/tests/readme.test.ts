/**
 * The README's examples run, so it cannot go stale: every sh block that uses
 * `npx sluice` (and does not install or build) runs whole in a temp copy of
 * fixtures/, with `npx sluice` bound to the built binary.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, REPO } from './support/run-cli.js';

const run = promisify(execFile);
const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
const scripts = blocks.filter((b) => b.includes('npx sluice') && !/\bnpm (ci|run|test|install)\b/.test(b));
const sluiceLines = scripts.flatMap((b) => b.split('\n').filter((l) => l.includes('npx sluice')));

const work = mkdtempSync(join(tmpdir(), 'sluice-readme-'));
cpSync(join(REPO, 'fixtures'), join(work, 'fixtures'), { recursive: true });
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('README examples', () => {
  it('has sluice examples to run', () => {
    expect(sluiceLines.length).toBeGreaterThanOrEqual(7);
  });

  for (const block of scripts) {
    it(block.trim().split('\n')[0]!, async () => {
      const body = block.replaceAll('npx sluice', 'sluice');
      const script = `set -eo pipefail\nsluice() { "${process.execPath}" "${BIN}" "$@"; }\n${body}`;
      const r = await run('bash', ['-c', script], { cwd: work, maxBuffer: 16 << 20 });
      expect(r.stdout.length).toBeGreaterThan(0);
    });
  }
});
