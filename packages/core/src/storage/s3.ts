import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { uploadStream } from './multipart.js';
import { SluiceError } from '../errors.js';
import { assertSafeKey, joinKey } from './keys.js';
import type { MoveOptions, ObjectInfo, PutOptions, PutResult, ReadOptions, Storage, StorageBody } from './types.js';

/**
 * 5 MiB (S3's minimum) × queue of 2: three reused part buffers, 15 MiB in all.
 * Measured against 8 MiB parts in docs/decisions/011-multipart-buffer-pool.md:
 * ~13 MiB less peak RSS, same loopback throughput. Parts grow automatically
 * when the size is known and would need more than 10,000 parts.
 */
export const DEFAULT_PART_SIZE_BYTES = 5 * 1024 * 1024;
export const DEFAULT_QUEUE_SIZE = 2;
/** S3's limit for a single CopyObject; larger objects are copied part by part. */
const MAX_SINGLE_COPY_BYTES = 5 * 1024 ** 3;
const COPY_PART_BYTES = 512 * 1024 ** 2;

export interface S3StorageOptions {
  /** Pass a client to share it (and its connections) or to instrument it; default: {@link createS3Client}. */
  client?: S3Client;
  /** Multipart part size in bytes (≥ 5 MiB). Memory use is `partSize × (queueSize + 1)`. */
  partSizeBytes?: number;
  /** Parts uploaded in parallel. */
  queueSize?: number;
  /** Called when an AbortMultipartUpload fails; the original error is still the one thrown. */
  onAbortFailure?: (info: { bucket: string; key: string; uploadId: string; error: unknown }) => void;
}

/**
 * An S3 client from the SDK's default chain (credentials, region, retries).
 * A custom endpoint comes from `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL`,
 * and then uses path-style addressing (what MinIO, s3rver and LocalStack expect).
 */
export function createS3Client(config: S3ClientConfig = {}, env: NodeJS.ProcessEnv = process.env): S3Client {
  const endpoint = env['AWS_ENDPOINT_URL_S3'] || env['AWS_ENDPOINT_URL'];
  const cfg: S3ClientConfig = { ...config };
  if (endpoint && cfg.endpoint === undefined) {
    cfg.endpoint = endpoint;
    cfg.forcePathStyle = true;
  }
  if (cfg.region === undefined && !env['AWS_REGION'] && !env['AWS_DEFAULT_REGION'] && endpoint) {
    // Local S3 look-alikes ignore the region, but the SDK refuses to sign without one.
    cfg.region = 'us-east-1';
  }
  return new S3Client(cfg);
}

/** Storage under `s3://bucket/prefix`, using lib-storage multipart uploads. */
export class S3Storage implements Storage {
  readonly kind = 's3' as const;
  readonly rootUri: string;
  readonly client: S3Client;
  readonly partSizeBytes: number;
  readonly queueSize: number;
  private readonly onAbortFailure: S3StorageOptions['onAbortFailure'];

  constructor(
    readonly bucket: string,
    readonly prefix: string,
    options: S3StorageOptions = {},
  ) {
    this.prefix = prefix.replace(/^\/+|\/+$/g, '');
    this.rootUri = `s3://${bucket}${this.prefix ? '/' + this.prefix : ''}`;
    this.client = options.client ?? createS3Client();
    this.partSizeBytes = options.partSizeBytes ?? DEFAULT_PART_SIZE_BYTES;
    this.queueSize = options.queueSize ?? DEFAULT_QUEUE_SIZE;
    if (this.partSizeBytes < 5 * 1024 * 1024) {
      throw new SluiceError('USAGE', `part size ${this.partSizeBytes} is below S3's 5 MiB minimum; use at least 5242880`);
    }
    if (!Number.isInteger(this.queueSize) || this.queueSize < 1) {
      throw new SluiceError('USAGE', `queue size ${this.queueSize} must be a whole number ≥ 1`);
    }
    this.onAbortFailure = options.onAbortFailure;
  }

  /** Full object key in the bucket. */
  objectKey(key: string): string {
    return joinKey(this.prefix, assertSafeKey(key));
  }

  uriFor(key: string): string {
    return `s3://${this.bucket}/${this.objectKey(key)}`;
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    return headS3Object(this.client, this.bucket, this.objectKey(key), key);
  }

  async read(key: string, options: ReadOptions = {}): Promise<Readable> {
    return readS3Object(this.client, this.bucket, this.objectKey(key), options);
  }

  /**
   * Streams `body` into the key with {@link uploadStream}: a fixed pool of
   * part buffers, a single PutObject for small bodies, and on failure our own
   * AbortMultipartUpload whose failure (s3rver answers MethodNotAllowed) is
   * reported through `onAbortFailure`, never thrown over the original error.
   */
  async put(key: string, body: StorageBody, options: PutOptions = {}): Promise<PutResult> {
    const Key = this.objectKey(key);
    const signal = options.signal;
    try {
      const out = await uploadStream(body, {
        client: this.client,
        bucket: this.bucket,
        key: Key,
        partSizeBytes: partSizeFor(this.partSizeBytes, options.sizeHint),
        queueSize: this.queueSize,
        ...(options.metadata ? { metadata: options.metadata } : {}),
        ...(options.contentType ? { contentType: options.contentType } : {}),
        ...(signal ? { signal } : {}),
        ...(options.beforeCommit ? { beforeCommit: options.beforeCommit } : {}),
        onAbortFailure: (i) => this.onAbortFailure?.({ bucket: this.bucket, key: Key, uploadId: i.uploadId, error: i.error }),
      });
      const result: PutResult = { key, size: out.size, committed: out.committed };
      if (out.etag) result.etag = out.etag;
      if (out.lateMetadata) {
        // Metadata of a multipart upload is fixed at create: set the final map with an
        // in-place copy (server-side; no bytes travel through us).
        try {
          await this.copyFromBucket(this.bucket, Key, key, { metadata: out.lateMetadata, ...(options.contentType ? { contentType: options.contentType } : {}) });
        } catch (e) {
          throw new SluiceError('IO', `s3://${this.bucket}/${Key} was written but its metadata could not be set (${errorText(e)}); run again to repair it`, {
            cause: e,
            retryable: true,
          });
        }
      }
      return result;
    } catch (e) {
      const original = signal?.aborted ? abortReason(signal) : e;
      if (original instanceof SluiceError) throw original;
      throw new SluiceError('IO', `upload to s3://${this.bucket}/${Key} failed: ${errorText(original)}; nothing was written at that key`, {
        cause: original,
        retryable: true,
      });
    }
  }

  /** Sends AbortMultipartUpload; a failure is reported, never thrown, so it cannot hide the original error. */
  private async abortMultipart(Key: string, UploadId: string): Promise<void> {
    try {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId }));
    } catch (error) {
      this.onAbortFailure?.({ bucket: this.bucket, key: Key, uploadId: UploadId, error });
    }
  }

  async move(from: string, to: string, options: MoveOptions = {}): Promise<void> {
    await this.copyFromBucket(this.bucket, this.objectKey(from), to, options);
    await this.delete(from);
  }

  /**
   * Server-side copy of `s3://srcBucket/srcKey` (same store) to `to`, replacing metadata.
   * CopyObject is atomic at the destination; above 5 GiB a multipart copy is used,
   * which is atomic too (the object appears at CompleteMultipartUpload).
   */
  async copyFromBucket(srcBucket: string, srcKey: string, to: string, options: MoveOptions & { ifMatch?: string } = {}): Promise<void> {
    const Key = this.objectKey(to);
    const CopySource = encodeURI(`${srcBucket}/${srcKey}`);
    const src = await headS3Object(this.client, srcBucket, srcKey, srcKey);
    if (!src) throw new SluiceError('NOT_FOUND', `no object at s3://${srcBucket}/${srcKey}; check the bucket and key`);
    try {
      if (src.size <= MAX_SINGLE_COPY_BYTES) {
        await this.client.send(
          new CopyObjectCommand({
            Bucket: this.bucket,
            Key,
            CopySource,
            MetadataDirective: 'REPLACE',
            Metadata: options.metadata ?? {},
            ...(options.contentType ? { ContentType: options.contentType } : {}),
            ...(options.ifMatch ? { CopySourceIfMatch: options.ifMatch } : {}),
          }),
        );
        return;
      }
    } catch (e) {
      throw new SluiceError('IO', `copy of s3://${srcBucket}/${srcKey} to s3://${this.bucket}/${Key} failed: ${errorText(e)}`, { cause: e, retryable: true });
    }
    const created = await this.client.send(
      new CreateMultipartUploadCommand({
        Bucket: this.bucket,
        Key,
        Metadata: options.metadata ?? {},
        ...(options.contentType ? { ContentType: options.contentType } : {}),
      }),
    );
    const UploadId = created.UploadId as string;
    try {
      const parts: { PartNumber: number; ETag: string }[] = [];
      for (let start = 0, n = 1; start < src.size; start += COPY_PART_BYTES, n++) {
        const end = Math.min(src.size, start + COPY_PART_BYTES) - 1;
        const r = await this.client.send(
          new UploadPartCopyCommand({
            Bucket: this.bucket,
            Key,
            UploadId,
            PartNumber: n,
            CopySource,
            CopySourceRange: `bytes=${start}-${end}`,
            ...(options.ifMatch ? { CopySourceIfMatch: options.ifMatch } : {}),
          }),
        );
        parts.push({ PartNumber: n, ETag: r.CopyPartResult?.ETag ?? '' });
      }
      await this.client.send(new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId, MultipartUpload: { Parts: parts } }));
    } catch (e) {
      await this.abortMultipart(Key, UploadId);
      throw new SluiceError('IO', `copy of s3://${srcBucket}/${srcKey} to s3://${this.bucket}/${Key} failed: ${errorText(e)}`, { cause: e, retryable: true });
    }
  }

  async delete(key: string): Promise<void> {
    const Key = this.objectKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }));
    } catch (e) {
      if (httpStatus(e) === 404) return;
      throw new SluiceError('IO', `could not delete s3://${this.bucket}/${Key}: ${errorText(e)}`, { cause: e, retryable: true });
    }
  }

  async *list(prefix = ''): AsyncIterable<ObjectInfo> {
    const full = this.prefix ? `${this.prefix}/${prefix}` : prefix;
    let ContinuationToken: string | undefined;
    do {
      const out = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: full, ...(ContinuationToken ? { ContinuationToken } : {}) }),
      );
      for (const o of out.Contents ?? []) {
        if (!o.Key) continue;
        const key = this.prefix ? o.Key.slice(this.prefix.length + 1) : o.Key;
        const info: ObjectInfo = { key, size: o.Size ?? 0, metadata: {} };
        if (o.ETag) info.etag = o.ETag;
        if (o.LastModified) info.lastModified = o.LastModified;
        yield info;
      }
      ContinuationToken = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }
}

/** The configured part size, raised when a known size would need more than ~9,000 parts. */
export function partSizeFor(partSizeBytes: number, sizeHint: number | undefined): number {
  if (sizeHint === undefined || sizeHint <= 0) return partSizeBytes;
  return Math.max(partSizeBytes, Math.ceil(sizeHint / 9_000 / (1024 * 1024)) * 1024 * 1024);
}

/** HEAD an object; `undefined` when it does not exist. */
export async function headS3Object(client: S3Client, Bucket: string, Key: string, reportKey = Key): Promise<ObjectInfo | undefined> {
  try {
    const out = await client.send(new HeadObjectCommand({ Bucket, Key }));
    const info: ObjectInfo = { key: reportKey, size: out.ContentLength ?? 0, metadata: lowerKeys(out.Metadata ?? {}) };
    if (out.ETag) info.etag = out.ETag;
    if (out.LastModified) info.lastModified = out.LastModified;
    if (out.ContentType) info.contentType = out.ContentType;
    return info;
  } catch (e) {
    if (httpStatus(e) === 404) return undefined;
    throw new SluiceError('IO', `could not read the metadata of s3://${Bucket}/${Key}: ${errorText(e)}; check credentials and AWS_ENDPOINT_URL_S3`, {
      cause: e,
      retryable: true,
    });
  }
}

/** GET an object (or a byte range) as a Node stream. */
export async function readS3Object(client: S3Client, Bucket: string, Key: string, options: ReadOptions & { ifMatch?: string } = {}): Promise<Readable> {
  const range =
    options.start !== undefined || options.end !== undefined ? `bytes=${options.start ?? 0}-${options.end !== undefined ? options.end : ''}` : undefined;
  try {
    const out = await client.send(
      new GetObjectCommand({ Bucket, Key, ...(range ? { Range: range } : {}), ...(options.ifMatch ? { IfMatch: options.ifMatch } : {}) }),
      options.signal ? { abortSignal: options.signal } : {},
    );
    return out.Body as Readable;
  } catch (e) {
    if (httpStatus(e) === 404) throw new SluiceError('NOT_FOUND', `no object at s3://${Bucket}/${Key}; check the bucket and key`, { cause: e });
    throw new SluiceError('IO', `could not read s3://${Bucket}/${Key}: ${errorText(e)}`, { cause: e, retryable: true });
  }
}

function lowerKeys(m: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k.toLowerCase(), v]));
}

function httpStatus(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

function errorText(e: unknown): string {
  if (e instanceof Error) return (e.name && e.name !== 'Error' && !e.message.includes(e.name) ? `${e.name}: ` : '') + (e.message.split('\n')[0] ?? '');
  return String(e);
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new SluiceError('ABORTED', 'the operation was aborted');
}
