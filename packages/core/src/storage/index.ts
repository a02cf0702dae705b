export type { Storage, StorageBody, ObjectInfo, PutOptions, PutResult, MoveOptions, ReadOptions } from './types.js';
export { assertSafeKey, joinKey } from './keys.js';
export { parseStorageUri } from './uri.js';
export type { StorageLocation } from './uri.js';
export { FolderStorage } from './folder.js';
export { S3Storage, createS3Client, headS3Object, readS3Object, DEFAULT_PART_SIZE_BYTES, DEFAULT_QUEUE_SIZE } from './s3.js';
export type { S3StorageOptions } from './s3.js';
export { openStorage } from './open.js';
export type { OpenStorageOptions } from './open.js';
