/**
 * A rejected record. Bad rows are data, not exceptions: readers and stages
 * return these beside their batches and a {@link RejectPolicy} decides what
 * happens to them.
 */
export interface Reject {
  /** 1-based physical line where the record starts. */
  line: number;
  /** Byte offset of the record start in the decoded input, when known. */
  byte?: number;
  /** Column name, when the problem is tied to one. */
  column?: string;
  code: string;
  message: string;
  /** The record's original text (truncated for oversized records, see `raw_truncated`). */
  raw: string;
  /** Set when `raw` holds only the start of a record too large to keep. */
  raw_truncated?: boolean;
}

export type OnError = 'fail' | 'skip' | 'quarantine';
export const ON_ERROR_VALUES: readonly OnError[] = ['fail', 'skip', 'quarantine'];
