export { handler, parseEvent, safetyMarginMs } from './handler.js';
export type { ExtractEvent, LambdaContext } from './handler.js';
