/**
 * The base error of every sluice package.
 *
 * Each package narrows `code` to its own literal union (see `CoreErrorCode`,
 * `CsvErrorCode`, …). `retryable` follows dlt's transient/terminal split:
 * a caller may retry a retryable error; a terminal one needs a human or a
 * different input. The message must say what happened *and what to do next*.
 */
export type CoreErrorCode =
  | 'USAGE'
  | 'IO'
  | 'NOT_FOUND'
  | 'INVALID_URI'
  | 'UNSAFE_PATH'
  | 'INTERNAL';

export interface ErrorContext {
  /** Pipeline stage: extract, transform, load, … */
  stage?: string;
  /** Source path or URL (never with credentials). */
  source?: string;
  /** 1-based physical line, when the error is tied to one. */
  line?: number;
}

export interface SluiceErrorOptions extends ErrorContext {
  retryable?: boolean;
  cause?: unknown;
}

export class SluiceError<C extends string = string> extends Error {
  readonly code: C;
  readonly retryable: boolean;
  readonly stage: string | undefined;
  readonly source: string | undefined;
  readonly line: number | undefined;

  constructor(code: C, message: string, options: SluiceErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SluiceError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.stage = options.stage;
    this.source = options.source;
    this.line = options.line;
  }
}

export function isSluiceError(e: unknown): e is SluiceError {
  return e instanceof SluiceError;
}

/** One line, safe for stderr: the message of a SluiceError, or a generic wrapper. */
export function describeError(e: unknown): string {
  if (e instanceof SluiceError) return `${e.code}: ${e.message}`;
  if (e instanceof Error) return e.message.split('\n')[0] ?? String(e);
  return String(e);
}
