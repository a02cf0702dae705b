/**
 * @sluice/load — Arrow RecordBatches → Parquet files in a folder, staged and
 * published atomically per run. See README.md and docs/decisions/002-parquet-writer.md.
 */
export { openParquetDataset, writeParquetFiles } from './parquet-dataset.js';
export type {
  ParquetCompression,
  ParquetDatasetOptions,
  ParquetDatasetWriter,
  ParquetDatasetResult,
} from './parquet-dataset.js';
export type { LoadErrorCode } from './column-spec.js';
