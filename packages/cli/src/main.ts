/**
 * The `sluice` binary: thin commands over the packages. Exit codes: 0 ok,
 * 1 failure (one line on stderr saying what to do), 2 bad usage.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { describeError, formatBytes, isSluiceError, ON_ERROR_VALUES, type OnError } from '@sluice/core';
import { normalizeDelimiter, normalizeEncoding, type CsvSource } from '@sluice/transform';
import { DEFAULT_MAX_REJECT_RATIO, RejectPolicyError, runTransform, type TransformSummary } from './run-transform.js';
import { readSchemaFile } from './schema-file.js';
import { makeProgress } from './progress.js';
import { registerExtract } from './extract-command.js';

export const VERSION = '0.1.0';

class UsageError extends Error {}

function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive integer.`);
    return n;
  };
}

function oneChar(name: string) {
  return (v: string): string => {
    if (v.length !== 1) throw new InvalidArgumentError(`${name} must be one character.`);
    return v;
  };
}

function ratio(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError('must be a number from 0 to 1.');
  return n;
}

function byteSize(v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?$/i.exec(v.trim());
  if (!m) throw new InvalidArgumentError('must be a size such as 16MiB, 512KiB or 1048576.');
  const unit = (m[2] ?? 'b').toLowerCase()[0];
  const mult = unit === 'k' ? 1024 : unit === 'm' ? 1 << 20 : unit === 'g' ? 1 << 30 : 1;
  const n = Math.floor(Number(m[1]) * mult);
  if (n <= 0) throw new InvalidArgumentError('must be positive.');
  return n;
}

interface TransformFlags {
  out: string;
  json?: boolean;
  allText?: boolean;
  delimiter?: string;
  encoding?: string;
  schema?: string;
  onError: OnError;
  maxRejectRatio: number;
  batchRows?: number;
  maxRowsPerFile?: number;
  maxRecordBytes?: number;
  header?: boolean;
  timezone?: string;
  nullMarkers?: string;
  compression?: 'zstd' | 'snappy' | 'none';
  quote?: string;
  escape?: string;
  comment?: string;
}

function printHuman(s: TransformSummary): void {
  const lines = [
    `sluice transform: ${s.rows_out} rows written, ${s.rows_rejected} rejected of ${s.rows_in} read (${formatBytes(s.bytes_in)} in ${(s.duration_ms / 1000).toFixed(2)} s, peak RSS ${formatBytes(s.peak_rss_bytes)})`,
    `  dialect: delimiter ${JSON.stringify(s.delimiter)}, header ${s.header ? 'yes' : 'no'}, encoding ${s.encoding}`,
    `  columns: ${s.columns.map((c) => `${c.name}:${c.type}`).join(', ')}`,
    ...s.files.map((f) => `  wrote ${f}`),
  ];
  if (s.rejects_file) lines.push(`  rejects: ${s.rejects_file}`);
  process.stdout.write(lines.join('\n') + '\n');
}

async function transformAction(input: string, flags: TransformFlags): Promise<void> {
  // Validate cheap things first so bad usage exits 2 before any work.
  let encoding: string;
  try {
    encoding = normalizeEncoding(flags.encoding);
  } catch (e) {
    throw new UsageError(describeError(e));
  }
  if (flags.delimiter !== undefined) {
    try {
      flags.delimiter = normalizeDelimiter(flags.delimiter);
    } catch (e) {
      throw new UsageError(`--${describeError(e).replace(/^BAD_OPTION: /, '')}`);
    }
  }
  if (flags.timezone !== undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: flags.timezone });
    } catch {
      throw new UsageError(`--timezone ${JSON.stringify(flags.timezone)} is not a time zone; use an IANA name such as Asia/Seoul or UTC`);
    }
  }
  const source: CsvSource = input === '-' ? { kind: 'stream', name: 'stdin', stream: process.stdin } : { kind: 'file', path: input };
  const pinned = flags.schema ? await readSchemaFile(flags.schema) : undefined;
  const progress = !flags.json && process.stderr.isTTY ? makeProgress(process.stderr) : undefined;
  try {
    const summary = await runTransform({
      source,
      outDir: flags.out,
      onError: flags.onError,
      maxRejectRatio: flags.maxRejectRatio,
      ...(flags.maxRowsPerFile === undefined ? {} : { maxRowsPerFile: flags.maxRowsPerFile }),
      ...(flags.compression === undefined ? {} : { compression: flags.compression }),
      read: {
        encoding,
        ...(flags.delimiter === undefined ? {} : { delimiter: flags.delimiter }),
        ...(flags.allText ? { allText: true } : {}),
        ...(pinned ? { pinned } : {}),
        ...(flags.batchRows === undefined ? {} : { batchRows: flags.batchRows }),
        ...(flags.maxRecordBytes === undefined ? {} : { maxRecordBytes: flags.maxRecordBytes }),
        ...(flags.header === undefined ? {} : { header: flags.header }),
        ...(flags.timezone === undefined ? {} : { timezone: flags.timezone }),
        ...(flags.nullMarkers === undefined ? {} : { nullMarkers: flags.nullMarkers.split(',') }),
        ...(flags.quote === undefined ? {} : { quote: flags.quote }),
        ...(flags.escape === undefined ? {} : { escape: flags.escape }),
        ...(flags.comment === undefined ? {} : { comment: flags.comment }),
      },
      ...(progress ? { onProgress: progress.update } : {}),
      onNotice: (m) => {
        progress?.clear();
        process.stderr.write(`sluice: ${m}\n`);
      },
    });
    progress?.stop();
    if (flags.json) process.stdout.write(JSON.stringify(summary) + '\n');
    else printHuman(summary);
  } catch (e) {
    progress?.stop();
    if (e instanceof RejectPolicyError && flags.json) process.stdout.write(JSON.stringify(e.summary) + '\n');
    throw e;
  }
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('sluice')
    .description('ETL for small machines: extract raw data unchanged, transform CSV to Parquet in flat memory.')
    .version(VERSION)
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');

  program
    .command('transform')
    .description('Stream a CSV (.csv, .tsv, .csv.gz, or - for stdin) into Parquet files under --out, with typed columns and quarantined rejects.')
    .argument('<input>', 'CSV path (.csv, .tsv, .csv.gz) or - for stdin')
    .requiredOption('--out <dir>', 'output folder: Parquet files, plus _rejects/rejects.jsonl')
    .option('--json', 'print the run summary as one JSON object on the last line of stdout')
    .option('--all-text', 'keep every column as UTF-8 text (no type inference)')
    .option('--delimiter <c>', "field delimiter (sniffed from , ; \\t | when not given; use '\\t' for tab)")
    .option('--encoding <name>', 'input encoding: utf-8, cp949 (euc-kr), latin1, utf-16le, …', 'utf-8')
    .option('--schema <file.json>', 'pin column types: {"columns": {"name": "int32|int64|float64|boolean|date|timestamp|text"}}')
    .addOption(new Option('--on-error <mode>', 'what to do with bad records').choices(ON_ERROR_VALUES).default('quarantine'))
    .option('--max-reject-ratio <0..1>', 'fail when rejected/read rows exceed this', ratio, DEFAULT_MAX_REJECT_RATIO)
    .option('--batch-rows <n>', 'rows per Arrow batch and Parquet row group (default 65536)', positiveInt('--batch-rows'))
    .option('--max-rows-per-file <n>', 'rotate to a new Parquet file after this many rows (default 1000000)', positiveInt('--max-rows-per-file'))
    .option('--max-record-bytes <size>', 'largest record accepted (default 16MiB)', byteSize)
    .option('--header', 'the first record is a header (default: sniffed)')
    .option('--no-header', 'the first record is data')
    .option('--timezone <tz>', 'IANA zone of timestamps without an offset (default UTC)')
    .option('--null-markers <list>', 'comma-separated values read as null in every column (default: NULL,null,NA,N/A,\\N in typed columns only)')
    .addOption(new Option('--compression <codec>', 'Parquet compression').choices(['zstd', 'snappy', 'none']).default('zstd'))
    .option('--quote <c>', 'quote character (default "); another one reads through csv-parse', oneChar('--quote'))
    .option('--escape <c>', 'escape character inside quotes (default: doubled quote); another one reads through csv-parse', oneChar('--escape'))
    .option('--comment <c>', 'skip lines starting with this character (reads through csv-parse)', oneChar('--comment'))
    .action(async (input: string, flags: TransformFlags) => {
      await transformAction(input, flags);
    });

  registerExtract(program);
  return program;
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return 2;
    }
    if (e instanceof UsageError || (isSluiceError(e) && e.code === 'USAGE')) {
      process.stderr.write(`sluice: ${e instanceof UsageError ? e.message : describeError(e)}\n`);
      return 2;
    }
    process.stderr.write(`sluice: ${oneLine(describeError(e))}\n`);
    if (process.env.SLUICE_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    return 1;
  }
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ');
}
