import { createHash } from 'node:crypto';
import { SluiceError, peakRssBytes } from '@sluice/core';
import { S3Storage, createS3Client, headS3Object, openStorage, readS3Object } from '@sluice/core/storage';
import type { ObjectInfo, S3Client, Storage } from '@sluice/core/storage';
import { extractError, usageError } from './errors.js';
import { openHttpSource } from './http-source.js';
import type { HttpSourceOptions } from './http-source.js';
import { extractPages } from './paged-source.js';
import type { PageSummary, PaginationOptions } from './paged-source.js';
import { provenanceToMetadata } from './provenance.js';
import type { Manifest, Provenance } from './provenance.js';
import { dataKey, dateInTimeZone, manifestKey, validateDataset, validateDate, validateObjectName } from './raw-zone.js';
import { redactUrl } from './redact.js';
import { RetryBudget } from './retry.js';
import type { RetryOptions } from './retry.js';
import { hashLocalFile, parseSource, previous, readLocalFile, sourceName, statLocalFile } from './sources.js';
import type { SourceRef } from './sources.js';
import { SLUICE_VERSION } from './version.js';

/** Options of {@link extractToRawZone}; the CLI flags map one to one onto the first six. */
export interface ExtractOptions extends RetryOptions {
  /** `<source>`: an http(s) URL, a local path, or `s3://bucket/key`. */
  source: string;
  /** `--to`: `s3://bucket/prefix` or a local folder. */
  to: string;
  /** `--dataset` */
  dataset: string;
  /** `--date` YYYY-MM-DD; default: the day of `now` in `timezone`. */
  date?: string;
  /** `--timezone` IANA name; default UTC. */
  timezone?: string;
  /** `--allow-private-network`: lift the SSRF block (loopback, private, link-local, …). */
  allowPrivateNetwork?: boolean;
  /** Origins exempt from the private-network block (see {@link HttpSourceOptions.trustedOrigins}). */
  trustedOrigins?: string[];
  /** Clock for the default date (the Lambda passes the event time). */
  now?: Date;
  /** Abort when no byte arrives for this long while waiting. Default 30 000 ms. */
  stallTimeoutMs?: number;
  /** Extra HTTP request headers (e.g. Authorization). Never logged or stored. */
  headers?: Record<string, string>;
  /** S3 multipart part size. Default 5 MiB (raised automatically for huge known sizes). */
  partSizeBytes?: number;
  /** S3 parts in flight. Default 2. */
  queueSize?: number;
  /** Treat the source as a paged HTTP API; each page lands as page-00001.json, … */
  pagination?: PaginationOptions;
  /** Cancels the run: the multipart upload is aborted and nothing lands at the key. */
  signal?: AbortSignal;
  /** S3 client to use (default: the SDK default chain + AWS_ENDPOINT_URL_S3). */
  s3Client?: S3Client;
  /** Base for relative local paths. */
  cwd?: string;
  /** Progress and warnings (retries, restarts, failed aborts); messages carry no secrets. */
  onEvent?: (event: ExtractEvent) => void;
}

export interface ExtractEvent {
  type: 'retry' | 'restart' | 'abort-failed';
  message: string;
}

/** The `--json` summary (and the Lambda's return value). */
export interface ExtractSummary {
  status: 'written' | 'unchanged';
  /** The data object (for a paged API: the dt= folder, with `pages` listing each object). */
  uri: string;
  bytes: number;
  sha256: string;
  peak_rss_bytes: number;
  duration_ms: number;
  source: string;
  dataset: string;
  date: string;
  manifest_uri: string;
  fetched_at: string;
  upstream_etag?: string;
  upstream_last_modified?: string;
  /** HTTP attempts used (1 = no retry). */
  attempts: number;
  /** Where the time went when the object was written: fetch + stage, then move into place. */
  timings_ms?: { transfer: number; commit: number };
  pages?: PageSummary[];
}

interface OpenedSource {
  notModified?: boolean;
  etag?: string;
  lastModified?: string;
  contentType?: string;
  contentEncoding?: string;
  contentLength?: number;
  /** Known before reading the body (local files are hashed first). */
  knownSha256?: string;
  body: AsyncIterable<Uint8Array>;
  close(): void;
}

interface LandResult {
  status: 'written' | 'unchanged';
  bytes: number;
  sha256: string;
  provenance: Provenance;
  /** Time to fetch + stage, and to move into place (server-side copy on S3). */
  timings?: { transfer_ms: number; commit_ms: number };
}

/**
 * Streams one source into `<to>/<dataset>/dt=<date>/<basename>`, byte for
 * byte, with provenance as S3 user metadata and a JSON manifest at
 * `<to>/_sluice/manifests/<dataset>/dt=<date>/<basename>.manifest.json`.
 *
 * Idempotent: an unchanged source (same upstream ETag, or same sha256) writes
 * nothing and reports `"unchanged"`. Failure-atomic: bytes stream straight
 * to the key but become visible only at commit (CompleteMultipartUpload /
 * PutObject / rename), after they are complete and verified; a failed run
 * aborts the upload, leaves nothing at the key and never touches the previous
 * good object (docs/decisions/010). Memory stays flat (partSize × (queueSize + 1)).
 *
 * @throws SluiceError — code `USAGE` for bad arguments (exit 2), others for failures (exit 1).
 */
export async function extractToRawZone(options: ExtractOptions): Promise<ExtractSummary> {
  const started = Date.now();
  const dataset = validateDataset(options.dataset);
  const date = options.date !== undefined ? validateDate(options.date) : dateInTimeZone(options.now ?? new Date(), options.timezone ?? 'UTC');
  if (options.timezone !== undefined) dateInTimeZone(new Date(), options.timezone); // validates
  const ref = parseSource(options.source, options.cwd);
  if (options.to.trim() === '') throw usageError('--to is empty; pass s3://bucket/prefix or a local folder');
  const safeSource = ref.kind === 'file' ? ref.path : redactUrl(options.source);

  let client: S3Client | undefined = options.s3Client;
  const s3 = (): S3Client => (client ??= createS3Client());
  const needsS3 = /^s3:\/\//i.test(options.to);
  const dest = openStorage(options.to, {
    ...(needsS3 ? { client: s3() } : {}),
    ...(options.partSizeBytes !== undefined ? { partSizeBytes: options.partSizeBytes } : {}),
    ...(options.queueSize !== undefined ? { queueSize: options.queueSize } : {}),
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    onAbortFailure: (i) =>
      options.onEvent?.({ type: 'abort-failed', message: `AbortMultipartUpload for s3://${i.bucket}/${i.key} failed: ${errText(i.error)}; the upload is left for a lifecycle rule` }),
  });
  const budget = new RetryBudget(options, options.signal);
  const ctx = new RunContext({ options, dest, dataset, date, safeSource, budget, s3 });

  try {
    if (options.pagination) {
      if (ref.kind !== 'http') throw usageError('pagination needs an http(s) source URL');
      const r = await extractPages(ref.url, ctx.httpOptions(), options.pagination, {
        dest,
        dataset,
        date,
        writeManifest: (name, prov) => writeManifest(ctx, name, prov),
      });
      return {
        status: r.pages.some((p) => p.status === 'written') ? 'written' : 'unchanged',
        uri: dest.uriFor(`${dataset}/dt=${date}`) + '/',
        bytes: r.bytes,
        sha256: r.sha256,
        peak_rss_bytes: peakRssBytes(),
        duration_ms: Date.now() - started,
        source: safeSource,
        dataset,
        date,
        manifest_uri: dest.uriFor(manifestKey(dataset, date, 'page-00001.json')).replace(/page-00001\.json\.manifest\.json$/, ''),
        fetched_at: r.fetchedAt,
        attempts: r.attempts,
        pages: r.pages,
      };
    }

    const name = validateObjectName(sourceName(ref), safeSource);
    const key = dataKey(dataset, date, name);
    const result = ref.kind === 's3' && dest instanceof S3Storage ? await copyS3(ctx, ref, name, key) : await land(ctx, ref, name, key);
    const summary: ExtractSummary = {
      status: result.status,
      uri: dest.uriFor(key),
      bytes: result.bytes,
      sha256: result.sha256,
      peak_rss_bytes: peakRssBytes(),
      duration_ms: Date.now() - started,
      source: safeSource,
      dataset,
      date,
      manifest_uri: dest.uriFor(manifestKey(dataset, date, name)),
      fetched_at: result.provenance.fetched_at,
      attempts: budget.attempts,
    };
    if (result.provenance.upstream_etag !== undefined) summary.upstream_etag = result.provenance.upstream_etag;
    if (result.provenance.upstream_last_modified !== undefined) summary.upstream_last_modified = result.provenance.upstream_last_modified;
    if (result.timings) summary.timings_ms = { transfer: result.timings.transfer_ms, commit: result.timings.commit_ms };
    return summary;
  } finally {
    if (!options.s3Client) client?.destroy();
  }
}

class RunContext {
  constructor(
    fields: Pick<RunContext, 'options' | 'dest' | 'dataset' | 'date' | 'safeSource' | 'budget' | 's3'>,
  ) {
    Object.assign(this, fields);
  }
  declare options: ExtractOptions;
  declare dest: Storage;
  declare dataset: string;
  declare date: string;
  declare safeSource: string;
  declare budget: RetryBudget;
  declare s3: () => S3Client;

  httpOptions(extra: Partial<HttpSourceOptions> = {}): HttpSourceOptions {
    const o = this.options;
    const h: HttpSourceOptions = {
      onRetry: (i) => o.onEvent?.({ type: 'retry', message: `attempt ${i.attempt} failed (${i.reason}); retrying` }),
      ...extra,
    };
    if (o.allowPrivateNetwork !== undefined) h.allowPrivateNetwork = o.allowPrivateNetwork;
    if (o.stallTimeoutMs !== undefined) h.stallTimeoutMs = o.stallTimeoutMs;
    if (o.trustedOrigins !== undefined) h.trustedOrigins = o.trustedOrigins;
    if (o.headers !== undefined) h.headers = o.headers;
    if (o.signal !== undefined) h.signal = o.signal;
    if (o.maxAttempts !== undefined) h.maxAttempts = o.maxAttempts;
    if (o.retryBaseDelayMs !== undefined) h.retryBaseDelayMs = o.retryBaseDelayMs;
    if (o.retryMaxDelayMs !== undefined) h.retryMaxDelayMs = o.retryMaxDelayMs;
    return h;
  }
}

function unchanged(prev: ObjectInfo): LandResult {
  const m = prev.metadata;
  const provenance: Provenance = {
    source: m['source'] ?? '',
    fetched_at: m['fetched-at'] ?? '',
    bytes: prev.size,
    sha256: m['sha256'] ?? '',
    sluice_version: m['sluice-version'] ?? SLUICE_VERSION,
  };
  if (m['upstream-etag']) provenance.upstream_etag = m['upstream-etag'];
  if (m['upstream-last-modified']) provenance.upstream_last_modified = m['upstream-last-modified'];
  return { status: 'unchanged', bytes: prev.size, sha256: provenance.sha256, provenance };
}

async function openSource(ctx: RunContext, ref: SourceRef, prevEtag: string | undefined): Promise<OpenedSource> {
  switch (ref.kind) {
    case 'http': {
      const src = await openHttpSource(ref.url, ctx.httpOptions(prevEtag ? { ifNoneMatch: prevEtag } : {}), ctx.budget);
      const o: OpenedSource = { notModified: src.notModified, body: src.body, close: src.close };
      if (src.etag !== undefined) o.etag = src.etag;
      if (src.lastModified !== undefined) o.lastModified = src.lastModified;
      if (src.contentType !== undefined) o.contentType = src.contentType;
      if (src.contentEncoding !== undefined) o.contentEncoding = src.contentEncoding;
      if (src.contentLength !== undefined) o.contentLength = src.contentLength;
      return o;
    }
    case 'file': {
      const st = await statLocalFile(ref.path);
      const knownSha256 = await hashLocalFile(ref.path);
      const body = readLocalFile(ref.path);
      return {
        knownSha256,
        contentLength: st.size,
        lastModified: st.mtime.toUTCString(),
        body,
        close: () => (body as unknown as { destroy(): void }).destroy(),
      };
    }
    case 's3': {
      const client = ctx.s3();
      const head = await headS3Object(client, ref.bucket, ref.key);
      if (!head) throw extractError('NOT_FOUND', `no object at s3://${ref.bucket}/${ref.key}; check the bucket and key`);
      if (prevEtag && head.etag === prevEtag) return { notModified: true, etag: head.etag, body: (async function* () {})(), close: () => undefined };
      const body = await readS3Object(client, ref.bucket, ref.key, head.etag ? { ifMatch: head.etag } : {});
      const o: OpenedSource = { body, contentLength: head.size, close: () => body.destroy() };
      if (head.etag) o.etag = head.etag;
      if (head.lastModified) o.lastModified = head.lastModified.toUTCString();
      if (head.contentType) o.contentType = head.contentType;
      return o;
    }
  }
}

/** Stage → verify → move into place. Restarts from scratch when a source cannot resume. */
async function land(ctx: RunContext, ref: SourceRef, name: string, key: string): Promise<LandResult> {
  const { dest } = ctx;
  const prev = await dest.head(key);
  const before = previous(prev);
  for (;;) {
    const fetchedAt = new Date().toISOString();
    const src = await openSource(ctx, ref, before.upstreamEtag);
    if (prev && (src.notModified || (src.etag !== undefined && src.etag === before.upstreamEtag) || (src.knownSha256 !== undefined && src.knownSha256 === before.sha256))) {
      src.close();
      return unchanged(prev);
    }
    const hash = createHash('sha256');
    const tee = async function* (): AsyncIterable<Uint8Array> {
      for await (const c of src.body) {
        hash.update(c);
        yield c;
      }
    };
    // Known before the first byte; sha256 and the byte count are added at commit.
    const early: Record<string, string> = provenanceToMetadata({
      source: ctx.safeSource,
      fetched_at: fetchedAt,
      bytes: src.contentLength ?? 0,
      sha256: '',
      sluice_version: SLUICE_VERSION,
      ...(src.etag !== undefined ? { upstream_etag: src.etag } : {}),
      ...(src.lastModified !== undefined ? { upstream_last_modified: src.lastModified } : {}),
      ...(src.contentEncoding !== undefined ? { upstream_content_encoding: src.contentEncoding } : {}),
    });
    delete early['sha256'];
    if (src.contentLength === undefined) delete early['bytes'];
    let provenance: Provenance | undefined;
    let sameBytes = false;
    const t0 = Date.now();
    let t1 = t0;
    try {
      // Straight to the final key: the object becomes visible only when the put commits
      // (CompleteMultipartUpload / PutObject / rename), and beforeCommit decides whether it does.
      await dest.put(key, tee(), {
        metadata: early,
        ...(src.contentType ? { contentType: src.contentType } : {}),
        ...(ctx.options.signal ? { signal: ctx.options.signal } : {}),
        ...(src.contentLength !== undefined ? { sizeHint: src.contentLength } : {}),
        beforeCommit: async ({ size }) => {
          t1 = Date.now();
          const sha256 = hash.digest('hex');
          if (src.knownSha256 !== undefined && src.knownSha256 !== sha256) {
            throw extractError('IO', `source ${ctx.safeSource} changed while it was read; run again when it is stable`);
          }
          if (prev && before.sha256 === sha256 && prev.size === size) {
            sameBytes = true;
            return false; // identical bytes: discard, the previous object stays untouched
          }
          provenance = { source: ctx.safeSource, fetched_at: fetchedAt, bytes: size, sha256, sluice_version: SLUICE_VERSION };
          if (src.etag !== undefined) provenance.upstream_etag = src.etag;
          if (src.lastModified !== undefined) provenance.upstream_last_modified = src.lastModified;
          if (src.contentEncoding !== undefined) provenance.upstream_content_encoding = src.contentEncoding;
          if (src.contentType !== undefined) provenance.content_type = src.contentType;
          return { metadata: provenanceToMetadata(provenance) };
        },
      });
    } catch (e) {
      src.close();
      if (e instanceof SluiceError && e.code === 'SOURCE_RESTART') {
        ctx.options.onEvent?.({ type: 'restart', message: e.message });
        continue;
      }
      throw e;
    }
    if (sameBytes && prev) return unchanged(prev);
    const written = provenance as Provenance;
    const t2 = Date.now();
    await writeManifest(ctx, name, written);
    return { status: 'written', bytes: written.bytes, sha256: written.sha256, provenance: written, timings: { transfer_ms: t1 - t0, commit_ms: t2 - t1 } };
  }
}

/**
 * S3 → S3 in the same store: hash by streaming the source (read only, nothing
 * uploaded), then one server-side copy with the provenance as metadata.
 */
async function copyS3(ctx: RunContext, ref: Extract<SourceRef, { kind: 's3' }>, name: string, key: string): Promise<LandResult> {
  const dest = ctx.dest as S3Storage;
  const prev = await dest.head(key);
  const before = previous(prev);
  const fetchedAt = new Date().toISOString();
  const head = await headS3Object(dest.client, ref.bucket, ref.key);
  if (!head) throw extractError('NOT_FOUND', `no object at s3://${ref.bucket}/${ref.key}; check the bucket and key`);
  if (prev && head.etag !== undefined && head.etag === before.upstreamEtag) return unchanged(prev);
  const hash = createHash('sha256');
  let bytes = 0;
  const body = await readS3Object(dest.client, ref.bucket, ref.key, { ...(head.etag ? { ifMatch: head.etag } : {}), ...(ctx.options.signal ? { signal: ctx.options.signal } : {}) });
  try {
    for await (const c of body) {
      hash.update(c as Buffer);
      bytes += (c as Buffer).length;
    }
  } catch (e) {
    throw extractError('IO', `reading s3://${ref.bucket}/${ref.key} failed: ${errText(e)}; try again`, { cause: e, retryable: true });
  }
  const sha256 = hash.digest('hex');
  if (prev && before.sha256 === sha256 && prev.size === bytes) return unchanged(prev);
  const provenance: Provenance = { source: ctx.safeSource, fetched_at: fetchedAt, bytes, sha256, sluice_version: SLUICE_VERSION };
  if (head.etag) provenance.upstream_etag = head.etag;
  if (head.lastModified) provenance.upstream_last_modified = head.lastModified.toUTCString();
  if (head.contentType) provenance.content_type = head.contentType;
  await dest.copyFromBucket(ref.bucket, ref.key, key, {
    metadata: provenanceToMetadata(provenance),
    ...(head.contentType ? { contentType: head.contentType } : {}),
    ...(head.etag ? { ifMatch: head.etag } : {}),
  });
  await writeManifest(ctx, name, provenance);
  return { status: 'written', bytes, sha256, provenance };
}

async function writeManifest(ctx: RunContext, name: string, provenance: Provenance): Promise<void> {
  const manifest: Manifest = {
    manifest_version: 1,
    uri: ctx.dest.uriFor(dataKey(ctx.dataset, ctx.date, name)),
    dataset: ctx.dataset,
    date: ctx.date,
    ...provenance,
  };
  const body = Buffer.from(JSON.stringify(manifest, null, 2) + '\n');
  await ctx.dest.put(manifestKey(ctx.dataset, ctx.date, name), once(body), { contentType: 'application/json' });
}

async function* once(b: Uint8Array): AsyncIterable<Uint8Array> {
  yield b;
}

function errText(e: unknown): string {
  return e instanceof Error ? (e.message.split('\n')[0] ?? e.name) : String(e);
}
