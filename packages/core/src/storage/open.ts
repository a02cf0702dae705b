import { SluiceError } from '../errors.js';
import { FolderStorage } from './folder.js';
import { S3Storage } from './s3.js';
import type { S3StorageOptions } from './s3.js';
import type { Storage } from './types.js';
import { parseStorageUri } from './uri.js';

export interface OpenStorageOptions extends S3StorageOptions {
  /** Base for relative folder paths; default `process.cwd()`. */
  cwd?: string;
}

/** Opens `s3://bucket/prefix` as {@link S3Storage} or a local folder as {@link FolderStorage}. */
export function openStorage(uri: string, options: OpenStorageOptions = {}): Storage {
  if (uri.trim() === '') throw new SluiceError('USAGE', 'the destination is empty; pass s3://bucket/prefix or a folder');
  const loc = parseStorageUri(uri, options.cwd);
  if (loc.kind === 's3') return new S3Storage(loc.bucket, loc.prefix, options);
  return new FolderStorage(loc.path);
}
