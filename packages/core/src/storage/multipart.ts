import {
  AbortMultipartUploadCommand,
  ChecksumAlgorithm,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { CompletedPart, S3Client } from '@aws-sdk/client-s3';

/** S3's minimum size for every part but the last. */
export const MIN_PART_SIZE_BYTES = 5 * 1024 * 1024;
const MAX_PARTS = 10_000;

export interface StreamUploadOptions {
  client: S3Client;
  bucket: string;
  key: string;
  partSizeBytes: number;
  queueSize: number;
  metadata?: Record<string, string>;
  contentType?: string;
  signal?: AbortSignal;
  /** Called when AbortMultipartUpload itself fails; never thrown, so it cannot hide the original error. */
  onAbortFailure?: (info: { uploadId: string; error: unknown }) => void;
  /** See `PutOptions.beforeCommit`: runs before PutObject/CompleteMultipartUpload; `false` discards. */
  beforeCommit?: (info: { size: number }) => Promise<false | { metadata?: Record<string, string> }>;
  /** Called once the multipart upload exists (tests and logs). */
  onCreated?: (uploadId: string) => void;
}

export interface StreamUploadResult {
  size: number;
  etag?: string;
  parts: number;
  /** False when `beforeCommit` discarded the upload (nothing was written). */
  committed: boolean;
  /** Metadata the object ended up with, when `beforeCommit` changed it after the multipart upload was created. */
  lateMetadata?: Record<string, string>;
  /** Part buffers allocated: never more than `queueSize + 1`, whatever the size. */
  buffers: number;
}

/**
 * Streams bytes into one S3 object with a fixed pool of `queueSize + 1` part
 * buffers that are reused for the whole upload.
 *
 * Why not lib-storage's `Upload`: it builds every part with `Buffer.concat`,
 * so a 1 GiB stream leaves ~128 dead 8 MiB buffers for the garbage collector,
 * and V8 lets up to ~64 MiB of such external garbage pile up before a full GC.
 * With the SDK's own ~35 MiB, that is what pushes a plain lib-storage upload
 * to ~140 MiB RSS (docs/decisions/011-multipart-buffer-pool.md). Reused
 * buffers make no garbage: memory is `partSize × (queueSize + 1)`, flat.
 *
 * Semantics match lib-storage's: a body smaller than one part is one
 * PutObject; otherwise a multipart upload that becomes visible only at
 * CompleteMultipartUpload. On any failure the multipart upload is aborted
 * (after in-flight parts settle) and the original error is rethrown.
 */
export async function uploadStream(body: AsyncIterable<Uint8Array>, o: StreamUploadOptions): Promise<StreamUploadResult> {
  if (o.partSizeBytes < MIN_PART_SIZE_BYTES) throw new RangeError(`part size must be ≥ ${MIN_PART_SIZE_BYTES}`);
  const Bucket = o.bucket;
  const Key = o.key;
  const sendOpts = o.signal ? { abortSignal: o.signal } : {};
  const maxBuffers = o.queueSize + 1;
  const free: Buffer[] = [];
  let allocated = 0;
  const take = (): Buffer => {
    const b = free.pop();
    if (b) return b;
    allocated++;
    // allocUnsafeSlow: a dedicated allocation, never a slice of Node's shared pool.
    return Buffer.allocUnsafeSlow(o.partSizeBytes);
  };

  let uploadId: string | undefined;
  let creating: Promise<string> | undefined;
  let checksum: boolean | undefined;
  const create = (): Promise<string> =>
    (creating ??= (async () => {
      // Mirror lib-storage: when the SDK sends part checksums, declare the algorithm up front.
      checksum = (await o.client.config.requestChecksumCalculation()) === 'WHEN_SUPPORTED';
      const out = await o.client.send(
        new CreateMultipartUploadCommand({
          Bucket,
          Key,
          ...(o.metadata ? { Metadata: o.metadata } : {}),
          ...(o.contentType ? { ContentType: o.contentType } : {}),
          ...(checksum ? { ChecksumAlgorithm: ChecksumAlgorithm.CRC32 } : {}),
        }),
        // No abort signal here: a create cancelled in flight may still exist on the
        // server, and only a known UploadId can be aborted. It is one quick request.
      );
      if (!out.UploadId) throw new Error('CreateMultipartUpload returned no UploadId');
      uploadId = out.UploadId;
      o.onCreated?.(uploadId);
      return uploadId;
    })());

  const parts: CompletedPart[] = [];
  const inflight = new Set<Promise<void>>();
  const state: { failure?: { error: unknown } } = {};
  /** Rethrows the first part failure, if any (a function, so TS does not narrow across awaits). */
  const rethrowPartFailure = (): void => {
    if (state.failure) throw state.failure.error;
  };
  const startPart = (buf: Buffer, len: number, PartNumber: number): void => {
    const p = (async () => {
      const UploadId = await create();
      const out = await o.client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber, Body: buf.subarray(0, len), ContentLength: len }), sendOpts);
      if (!out.ETag) throw new Error(`UploadPart ${PartNumber} returned no ETag`);
      parts.push({ PartNumber, ETag: out.ETag, ...(out.ChecksumCRC32 ? { ChecksumCRC32: out.ChecksumCRC32 } : {}) });
    })()
      .catch((error: unknown) => {
        state.failure ??= { error };
      })
      .finally(() => {
        inflight.delete(p);
        free.push(buf); // the SDK has written the body; the buffer is ours again
      });
    inflight.add(p);
  };

  let size = 0;
  let partNumber = 0;
  let cur = take();
  let fill = 0;
  try {
    for await (const raw of body) {
      rethrowPartFailure();
      o.signal?.throwIfAborted();
      const chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
      size += chunk.length;
      let off = 0;
      while (off < chunk.length) {
        const n = Math.min(o.partSizeBytes - fill, chunk.length - off);
        chunk.copy(cur, fill, off, off + n);
        fill += n;
        off += n;
        if (fill === o.partSizeBytes) {
          if (partNumber + 1 >= MAX_PARTS) throw new RangeError(`more than ${MAX_PARTS} parts: raise the part size above ${o.partSizeBytes} bytes`);
          startPart(cur, fill, ++partNumber);
          // Backpressure: wait for a free buffer rather than allocating more.
          while (free.length === 0 && allocated >= maxBuffers && inflight.size > 0) await Promise.race(inflight);
          rethrowPartFailure();
          cur = take();
          fill = 0;
        }
      }
    }
    o.signal?.throwIfAborted();
    if (partNumber === 0) {
      // Smaller than one part: a single atomic PUT, no multipart upload at all,
      // so metadata decided at the end goes straight into it.
      const verdict = o.beforeCommit ? await o.beforeCommit({ size }) : {};
      if (verdict === false) return { size, parts: 0, committed: false, buffers: allocated };
      const metadata = verdict.metadata ?? o.metadata;
      o.signal?.throwIfAborted();
      const out = await o.client.send(
        new PutObjectCommand({
          Bucket,
          Key,
          Body: cur.subarray(0, fill),
          ContentLength: fill,
          ...(metadata ? { Metadata: metadata } : {}),
          ...(o.contentType ? { ContentType: o.contentType } : {}),
        }),
        sendOpts,
      );
      return { size, parts: 1, committed: true, buffers: allocated, ...(out.ETag ? { etag: out.ETag } : {}) };
    }
    if (fill > 0) startPart(cur, fill, ++partNumber);
    while (inflight.size > 0) await Promise.race(inflight);
    rethrowPartFailure();
    o.signal?.throwIfAborted();
    const verdict = o.beforeCommit ? await o.beforeCommit({ size }) : {};
    if (verdict === false) {
      await abort();
      return { size, parts: partNumber, committed: false, buffers: allocated };
    }
    o.signal?.throwIfAborted();
    parts.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
    const out = await o.client.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId: await create(), MultipartUpload: { Parts: parts } }), sendOpts);
    uploadId = undefined; // completed: nothing to abort
    return {
      size,
      parts: partNumber,
      committed: true,
      buffers: allocated,
      ...(out.ETag ? { etag: out.ETag } : {}),
      ...(verdict.metadata ? { lateMetadata: verdict.metadata } : {}),
    };
  } catch (e) {
    await abort();
    throw e;
  }

  /** Settles in-flight parts, then aborts the upload if one exists; an abort failure is reported, never thrown. */
  async function abort(): Promise<void> {
    await Promise.allSettled([...inflight]);
    if (creating) await creating.catch(() => undefined);
    const id = uploadId;
    uploadId = undefined;
    if (!id) return;
    try {
      await o.client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId: id }));
    } catch (error) {
      o.onAbortFailure?.({ uploadId: id, error });
    }
  }
}
