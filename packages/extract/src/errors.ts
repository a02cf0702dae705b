import { SluiceError } from '@sluice/core';
import type { SluiceErrorOptions } from '@sluice/core';

/** Error codes raised by extract (on top of core's `USAGE`, `IO`, `NOT_FOUND`, `UNSAFE_PATH`, …). */
export type ExtractErrorCode =
  | 'USAGE'
  | 'IO'
  | 'NOT_FOUND'
  | 'UNSAFE_PATH'
  | 'SSRF_BLOCKED'
  | 'UNSUPPORTED_SCHEME'
  | 'HTTP_STATUS'
  | 'TOO_MANY_REDIRECTS'
  | 'STALLED'
  | 'NETWORK'
  | 'SIZE_MISMATCH'
  | 'RETRIES_EXHAUSTED'
  | 'SOURCE_RESTART'
  | 'TOO_MANY_PAGES'
  | 'PAGE_TOO_LARGE'
  | 'ABORTED'
  | 'TIMEOUT';

export function extractError(code: ExtractErrorCode, message: string, options: SluiceErrorOptions = {}): SluiceError<ExtractErrorCode> {
  return new SluiceError<ExtractErrorCode>(code, message, { stage: 'extract', ...options });
}

export function usageError(message: string): SluiceError<ExtractErrorCode> {
  return extractError('USAGE', message);
}
