/**
 * Every `npx sluice …` line in the README's sh blocks runs, so the README
 * cannot go stale. Each runs in a temp copy of fixtures/ with `npx sluice`
 * bound to the built binary.
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
const lines = blocks
  .flatMap((b) => b.replace(/\\\n\s*/g, ' ').split('\n'))
  .map((l) => l.trim())
  .filter((l) => /(^|\| )npx sluice /.test(l) && !l.includes('s3://') && !l.includes('https://'));

const work = mkdtempSync(join(tmpdir(), 'sluice-readme-'));
cpSync(join(REPO, 'fixtures'), join(work, 'fixtures'), { recursive: true });
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('README examples', () => {
  it('has sluice examples to run', () => {
    expect(lines.length).toBeGreaterThanOrEqual(5);
  });

  for (const line of lines) {
    it(line, async () => {
      const script = `set -eo pipefail; sluice() { "${process.execPath}" "${BIN}" "$@"; }; ${line.replaceAll('npx sluice', 'sluice')}`;
      const r = await run('bash', ['-c', script], { cwd: work, maxBuffer: 16 << 20 });
      expect(r.stdout.length).toBeGreaterThan(0);
    });
  }
});
