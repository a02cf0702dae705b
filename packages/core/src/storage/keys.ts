import { SluiceError } from '../errors.js';

/**
 * Refuses keys that could escape a storage root or mean different things on
 * different backends: empty, absolute, `..`/`.` segments, NUL, backslashes.
 */
export function assertSafeKey(key: string): string {
  const bad = (why: string): never => {
    throw new SluiceError('UNSAFE_PATH', `refusing storage key ${JSON.stringify(key)}: ${why}; use a relative key of plain path segments`);
  };
  if (key.length === 0) bad('it is empty');
  if (key.includes('\0')) bad('it contains a NUL byte');
  if (key.includes('\\')) bad('it contains a backslash');
  if (key.startsWith('/')) bad('it is absolute');
  for (const seg of key.split('/')) {
    if (seg === '..' || seg === '.') bad(`it contains a "${seg}" segment`);
    if (seg === '') bad('it contains an empty segment');
  }
  return key;
}

/** Joins key segments with `/`, skipping empty ones. */
export function joinKey(...parts: string[]): string {
  return parts
    .flatMap((p) => p.split('/'))
    .filter((s) => s.length > 0)
    .join('/');
}
