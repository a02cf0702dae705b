import { SluiceError, type SluiceErrorOptions } from '@sluice/core';

/** Reject and error codes of the CSV reader. */
export type CsvErrorCode =
  /** A record has more or fewer fields than the header. */
  | 'RAGGED_ROW'
  /** A quoted field is never closed before the end of the input. */
  | 'UNCLOSED_QUOTE'
  /** A quote appears inside an unquoted field (`ab"c`). */
  | 'INVALID_OPENING_QUOTE'
  /** A closing quote is followed by something other than a delimiter or line end. */
  | 'INVALID_CLOSING_QUOTE'
  /** One record is longer than `maxRecordBytes`. */
  | 'RECORD_TOO_LARGE'
  /** A value does not fit the column's type. */
  | 'CAST_FAILED'
  /** The input has no header and no rows. */
  | 'EMPTY_INPUT'
  /** The input could not be decoded with the given encoding. */
  | 'BAD_ENCODING'
  /** A `--schema` file is invalid. */
  | 'BAD_SCHEMA'
  /** Too many rejects for the policy. */
  | 'TOO_MANY_REJECTS'
  /** `--on-error fail` met a bad record, or csv-parse rejected one. */
  | 'BAD_RECORD'
  /** An option value is invalid (delimiter, encoding, …). */
  | 'BAD_OPTION'
  /** The input path cannot be read. */
  | 'INPUT_NOT_FOUND';

export class CsvError extends SluiceError<CsvErrorCode> {
  constructor(code: CsvErrorCode, message: string, options: SluiceErrorOptions = {}) {
    super(code, message, { stage: 'transform', ...options });
    this.name = 'CsvError';
  }
}
