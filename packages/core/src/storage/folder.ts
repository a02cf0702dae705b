import { createWriteStream } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { dirname, join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { SluiceError } from '../errors.js';
import { assertSafeKey } from './keys.js';
import type { MoveOptions, ObjectInfo, PutOptions, PutResult, ReadOptions, Storage, StorageBody } from './types.js';

/** Sidecar folder for user metadata; `list` never shows it. */
const META_DIR = '.sluice-meta';
/** Temp files live here until an atomic rename, so a killed run never leaves a half file at a key. */
const TMP_DIR = '.sluice-tmp';

interface Sidecar {
  metadata: Record<string, string>;
  contentType?: string;
}

/**
 * Storage in a local folder. Puts stream into `<root>/.sluice-tmp/` and then
 * `rename(2)` into place, which is atomic on one filesystem; metadata goes to a
 * JSON sidecar under `<root>/.sluice-meta/`.
 */
export class FolderStorage implements Storage {
  readonly kind = 'folder' as const;
  readonly rootUri: string;

  constructor(readonly root: string) {
    this.rootUri = root.replace(/[\\/]+$/, '');
  }

  uriFor(key: string): string {
    return join(this.root, ...assertSafeKey(key).split('/'));
  }

  private path(key: string): string {
    assertSafeKey(key);
    if (key.split('/')[0]?.startsWith('.sluice-')) {
      throw new SluiceError('UNSAFE_PATH', `refusing storage key ${JSON.stringify(key)}: ".sluice-*" folders are reserved for bookkeeping`);
    }
    const p = join(this.root, ...key.split('/'));
    const rel = relative(this.root, p);
    if (rel.startsWith('..') || rel === '') throw new SluiceError('UNSAFE_PATH', `refusing storage key ${JSON.stringify(key)}: it escapes ${this.root}`);
    return p;
  }

  private metaPath(key: string): string {
    return join(this.root, META_DIR, ...key.split('/')) + '.json';
  }

  private async tmpPath(): Promise<string> {
    const dir = join(this.root, TMP_DIR);
    await mkdir(dir, { recursive: true });
    return join(dir, randomUUID());
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const p = this.path(key);
    let st;
    try {
      st = await stat(p);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw ioError(`could not stat ${p}`, e);
    }
    if (!st.isFile()) return undefined;
    const side = await this.readSidecar(key);
    const info: ObjectInfo = { key, size: st.size, lastModified: st.mtime, metadata: side?.metadata ?? {} };
    if (side?.contentType !== undefined) info.contentType = side.contentType;
    return info;
  }

  private async readSidecar(key: string): Promise<Sidecar | undefined> {
    try {
      return JSON.parse(await readFile(this.metaPath(key), 'utf8')) as Sidecar;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw ioError(`could not read the metadata of ${key}`, e);
    }
  }

  private async writeSidecar(key: string, side: Sidecar | undefined): Promise<void> {
    const mp = this.metaPath(key);
    if (side === undefined || (Object.keys(side.metadata).length === 0 && side.contentType === undefined)) {
      await rm(mp, { force: true });
      return;
    }
    const tmp = await this.tmpPath();
    await writeFile(tmp, JSON.stringify(side));
    await mkdir(dirname(mp), { recursive: true });
    await rename(tmp, mp);
  }

  async read(key: string, options: ReadOptions = {}): Promise<Readable> {
    const p = this.path(key);
    // Open first so a missing file fails here, not on the first read.
    let fh;
    try {
      fh = await open(p, 'r');
    } catch (e) {
      if (isNotFound(e)) throw new SluiceError('NOT_FOUND', `no object at ${p}; check the path`, { cause: e });
      throw ioError(`could not open ${p}`, e);
    }
    const opts: { start?: number; end?: number; signal?: AbortSignal } = {};
    if (options.start !== undefined) opts.start = options.start;
    if (options.end !== undefined) opts.end = options.end;
    if (options.signal !== undefined) opts.signal = options.signal;
    return fh.createReadStream(opts);
  }

  async put(key: string, body: StorageBody, options: PutOptions = {}): Promise<PutResult> {
    const p = this.path(key);
    const tmp = await this.tmpPath();
    let size = 0;
    try {
      options.signal?.throwIfAborted();
      const counted = async function* () {
        for await (const chunk of body) {
          options.signal?.throwIfAborted();
          size += chunk.byteLength;
          yield chunk;
        }
      };
      await pipeline(counted, createWriteStream(tmp), options.signal ? { signal: options.signal } : {});
      let metadata = options.metadata;
      if (options.beforeCommit) {
        const verdict = await options.beforeCommit({ size });
        if (verdict === false) {
          await rm(tmp, { force: true });
          return { key, size, committed: false };
        }
        if (verdict.metadata) metadata = verdict.metadata;
      }
      options.signal?.throwIfAborted();
      const side: Sidecar = { metadata: { ...(metadata ?? {}) } };
      if (options.contentType !== undefined) side.contentType = options.contentType;
      await mkdir(dirname(p), { recursive: true });
      await this.writeSidecar(key, side);
      await rename(tmp, p);
    } catch (e) {
      await rm(tmp, { force: true }).catch(() => undefined);
      if (options.signal?.aborted && options.signal.reason instanceof Error) throw options.signal.reason;
      if (e instanceof SluiceError) throw e;
      throw ioError(`could not write ${p}`, e);
    }
    return { key, size, committed: true };
  }

  async move(from: string, to: string, options: MoveOptions = {}): Promise<void> {
    const src = this.path(from);
    const dst = this.path(to);
    try {
      await stat(src);
    } catch (e) {
      if (isNotFound(e)) throw new SluiceError('NOT_FOUND', `cannot move ${src}: it does not exist`, { cause: e });
      throw ioError(`could not stat ${src}`, e);
    }
    const side: Sidecar = { metadata: { ...(options.metadata ?? {}) } };
    if (options.contentType !== undefined) side.contentType = options.contentType;
    try {
      await mkdir(dirname(dst), { recursive: true });
      await this.writeSidecar(to, side);
      await rename(src, dst);
      await rm(this.metaPath(from), { force: true });
      await this.pruneEmptyParents(from);
    } catch (e) {
      throw ioError(`could not move ${src} to ${dst}`, e);
    }
  }

  async delete(key: string): Promise<void> {
    const p = this.path(key);
    try {
      await rm(p, { force: true });
      await rm(this.metaPath(key), { force: true });
    } catch (e) {
      throw ioError(`could not delete ${p}`, e);
    }
    await this.pruneEmptyParents(key);
  }

  /** Removes folders left empty by a delete or move (never the root); best effort. */
  private async pruneEmptyParents(key: string): Promise<void> {
    const segs = key.split('/').slice(0, -1);
    for (let n = segs.length; n > 0; n--) {
      try {
        await rmdir(join(this.root, ...segs.slice(0, n)));
      } catch {
        return; // not empty (or already gone): stop climbing
      }
    }
  }

  async *list(prefix = ''): AsyncIterable<ObjectInfo> {
    // Walk only the folder that can hold matches.
    const lastSlash = prefix.lastIndexOf('/');
    const startDir = lastSlash === -1 ? this.root : join(this.root, ...prefix.slice(0, lastSlash).split('/'));
    const stack = [startDir];
    while (stack.length > 0) {
      const dir = stack.pop() as string;
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (e) {
        if (isNotFound(e)) continue;
        throw ioError(`could not list ${dir}`, e);
      }
      for (const ent of entries) {
        const full = join(dir, ent.name);
        const key = relative(this.root, full).split(sep).join('/');
        if (key.split('/')[0]?.startsWith('.sluice-')) continue;
        if (ent.isDirectory()) {
          if (key.startsWith(prefix) || prefix.startsWith(key + '/')) stack.push(full);
        } else if (ent.isFile() && key.startsWith(prefix)) {
          const info = await this.head(key);
          if (info) yield info;
        }
      }
    }
  }

  toString(): string {
    return pathToFileURL(this.root).href;
  }
}

function isNotFound(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function ioError(what: string, cause: unknown): SluiceError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new SluiceError('IO', `${what}: ${why}; check the folder exists and is writable`, { cause, retryable: false });
}
