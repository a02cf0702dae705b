import type { Readable } from 'node:stream';

/** Bytes to store: any async iterable of byte chunks (a `Readable` is one). */
export type StorageBody = AsyncIterable<Uint8Array>;

/** What a backend knows about one stored object. */
export interface ObjectInfo {
  /** Key relative to the storage root, `/`-separated. */
  key: string;
  size: number;
  /** Backend entity tag when the backend has one (S3); folders have none. */
  etag?: string;
  lastModified?: Date;
  contentType?: string;
  /** User metadata (S3 `x-amz-meta-*`, a sidecar file for folders). Keys are lower-case. */
  metadata: Record<string, string>;
}

export interface PutOptions {
  /** User metadata; keys lower-case ASCII, values ASCII (they travel as HTTP headers on S3). */
  metadata?: Record<string, string>;
  contentType?: string;
  /** Expected size in bytes, when known: lets S3 pick a part size that stays under 10,000 parts. */
  sizeHint?: number;
  /**
   * Called after the last byte and before the object becomes visible. Return
   * `false` to discard it (nothing is written, the previous object stays), or
   * the final metadata to store with it (e.g. a checksum only known now).
   */
  beforeCommit?: (info: { size: number }) => Promise<false | { metadata?: Record<string, string> }>;
  /** Aborting fails the put: nothing appears at the key and any multipart upload is aborted. */
  signal?: AbortSignal;
}

export interface PutResult {
  key: string;
  size: number;
  etag?: string;
  /** False when `beforeCommit` discarded the object. */
  committed: boolean;
}

export interface MoveOptions {
  /** Metadata for the object at the destination key (replaces what the source had). */
  metadata?: Record<string, string>;
  contentType?: string;
}

export interface ReadOptions {
  /** First byte, inclusive. */
  start?: number;
  /** Last byte, inclusive. */
  end?: number;
  signal?: AbortSignal;
}

/**
 * One small interface over a folder and an S3 prefix.
 *
 * Contract (checked by the shared conformance suite in `tests/storage-conformance.ts`):
 * - `put` is atomic: readers see the old object or the whole new one, never a part.
 *   A failed, aborted or discarded (`beforeCommit` → false) put leaves the previous object untouched.
 * - `move` replaces `to` atomically with `from`'s bytes and the given metadata, then removes `from`.
 * - `delete` of a missing key is not an error.
 * - keys never escape the root (`..`, absolute paths, NUL and backslashes are refused).
 */
export interface Storage {
  readonly kind: 'folder' | 's3';
  /** `file:///abs/dir` style folder path or `s3://bucket/prefix`, without a trailing slash. */
  readonly rootUri: string;
  /** The URI a user would type for `key` (a local path or `s3://bucket/prefix/key`). */
  uriFor(key: string): string;
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Streams an object (or a byte range of it). Throws `SluiceError('NOT_FOUND')` when missing. */
  read(key: string, options?: ReadOptions): Promise<Readable>;
  put(key: string, body: StorageBody, options?: PutOptions): Promise<PutResult>;
  move(from: string, to: string, options?: MoveOptions): Promise<void>;
  delete(key: string): Promise<void>;
  /** Lists objects whose key starts with `prefix`, in no particular order. Internal bookkeeping files are skipped. */
  list(prefix?: string): AsyncIterable<ObjectInfo>;
}
