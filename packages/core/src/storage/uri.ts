import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SluiceError } from '../errors.js';

export type StorageLocation =
  | { kind: 's3'; bucket: string; prefix: string }
  | { kind: 'folder'; path: string };

/** Parses `s3://bucket/prefix`, `file:///dir` or a local path (relative paths resolve against `cwd`). */
export function parseStorageUri(uri: string, cwd: string = process.cwd()): StorageLocation {
  if (uri.includes('\0')) throw new SluiceError('INVALID_URI', `invalid location ${JSON.stringify(uri)}: it contains a NUL byte`);
  if (/^s3:\/\//i.test(uri)) {
    const rest = uri.slice(5);
    const slash = rest.indexOf('/');
    const bucket = slash === -1 ? rest : rest.slice(0, slash);
    const prefix = slash === -1 ? '' : rest.slice(slash + 1).replace(/\/+$/, '');
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
      throw new SluiceError('INVALID_URI', `invalid S3 location ${JSON.stringify(uri)}: "${bucket}" is not a valid bucket name; use s3://bucket/prefix`);
    }
    return { kind: 's3', bucket, prefix };
  }
  if (/^file:\/\//i.test(uri)) return { kind: 'folder', path: fileURLToPath(uri) };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) {
    throw new SluiceError('INVALID_URI', `unsupported location ${JSON.stringify(uri)}: use s3://bucket/prefix or a local folder`);
  }
  return { kind: 'folder', path: isAbsolute(uri) ? resolve(uri) : resolve(cwd, uri) };
}
