export { SluiceError, isSluiceError, describeError } from './errors.js';
export type { CoreErrorCode, ErrorContext, SluiceErrorOptions } from './errors.js';
export { ON_ERROR_VALUES } from './rejects.js';
export type { Reject, OnError } from './rejects.js';
export { peakRssBytes, formatBytes } from './summary.js';
export type { RunSummary } from './summary.js';
// Storage (folder + S3) lives behind the '@sluice/core/storage' subpath so that
// importing the core vocabulary does not load the AWS SDK (~20 MB of RSS).
