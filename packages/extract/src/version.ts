/** Recorded in provenance. Kept in step with packages/extract/package.json (a test checks). */
export const SLUICE_VERSION = '0.1.0';
