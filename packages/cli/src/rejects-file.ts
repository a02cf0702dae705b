/**
 * Quarantine: rejects appended to `<out>/_rejects/rejects.jsonl`, staged under
 * a temporary name and published (replacing the previous run's file) only when
 * the run ends.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import type { Reject } from '@sluice/core';

export const REJECTS_DIR = '_rejects';
export const REJECTS_FILE = 'rejects.jsonl';

export class RejectsFile {
  readonly finalPath: string;
  private readonly tmpPath: string;
  private stream: WriteStream | undefined;
  count = 0;

  constructor(outDir: string, runId: string) {
    const dir = join(outDir, REJECTS_DIR);
    this.finalPath = join(dir, REJECTS_FILE);
    this.tmpPath = join(dir, `.${REJECTS_FILE}.${runId}.tmp`);
  }

  async append(rejects: readonly Reject[]): Promise<void> {
    if (rejects.length === 0) return;
    if (!this.stream) {
      await mkdir(join(this.finalPath, '..'), { recursive: true });
      this.stream = createWriteStream(this.tmpPath);
    }
    let text = '';
    for (const r of rejects) text += JSON.stringify(r) + '\n';
    this.count += rejects.length;
    if (!this.stream.write(text)) await once(this.stream, 'drain');
  }

  private async close(): Promise<void> {
    const s = this.stream;
    if (!s) return;
    this.stream = undefined;
    await new Promise<void>((resolve, reject) => s.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }

  /** Publishes this run's rejects; with none, removes a previous run's file so it cannot mislead. */
  async commit(): Promise<string | undefined> {
    const had = this.stream !== undefined;
    await this.close();
    if (!had) {
      await rm(this.finalPath, { force: true });
      return undefined;
    }
    await rename(this.tmpPath, this.finalPath);
    return this.finalPath;
  }

  async abort(): Promise<void> {
    await this.close().catch(() => {});
    await rm(this.tmpPath, { force: true });
  }
}
