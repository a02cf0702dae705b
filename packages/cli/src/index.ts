export { main, buildProgram, VERSION } from './main.js';
export { runTransform, RejectPolicyError, DEFAULT_MAX_REJECT_RATIO } from './run-transform.js';
export type { TransformRunOptions, TransformSummary } from './run-transform.js';
export { parseSchemaJson, readSchemaFile } from './schema-file.js';
