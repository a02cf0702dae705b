export { SluiceError, isSluiceError, describeError } from './errors.js';
export type { CoreErrorCode, ErrorContext, SluiceErrorOptions } from './errors.js';
export { ON_ERROR_VALUES } from './rejects.js';
export type { Reject, OnError } from './rejects.js';
export { peakRssBytes, formatBytes } from './summary.js';
export type { RunSummary } from './summary.js';
