export { SluiceError, isSluiceError, describeError } from './errors.js';
export type { CoreErrorCode, ErrorContext, SluiceErrorOptions } from './errors.js';
export { ON_ERROR_VALUES } from './rejects.js';
export type { Reject, OnError } from './rejects.js';
export { peakRssBytes, formatBytes } from './summary.js';
export type { RunSummary } from './summary.js';
export {
  FolderStorage,
  S3Storage,
  openStorage,
  createS3Client,
  headS3Object,
  readS3Object,
  parseStorageUri,
  assertSafeKey,
  joinKey,
  DEFAULT_PART_SIZE_BYTES,
  DEFAULT_QUEUE_SIZE,
} from './storage/index.js';
export type {
  Storage,
  StorageBody,
  ObjectInfo,
  PutOptions,
  PutResult,
  MoveOptions,
  ReadOptions,
  StorageLocation,
  S3StorageOptions,
  OpenStorageOptions,
  S3Client,
} from './storage/index.js';
