/**
 * AWS Lambda adapter over `extractToRawZone`. Thin on purpose: parse the
 * event, pick the date, arm the deadline, call the package.
 */
import { resolve, sep } from 'node:path';
import { SluiceError } from '@sluice/core';
import { createS3Client } from '@sluice/core/storage';
import type { S3Client } from '@sluice/core/storage';
import { dateInTimeZone, extractToRawZone } from '@sluice/extract';
import type { ExtractSummary } from '@sluice/extract';

/** The fields of an invocation (directly, or in an EventBridge event's `detail`). */
export interface ExtractEvent {
  source: string;
  to: string;
  dataset: string;
  date?: string;
  allowPrivateNetwork?: boolean;
}

/** The part of the Lambda context we use. */
export interface LambdaContext {
  getRemainingTimeInMillis(): number;
  awsRequestId?: string;
}

/** Stop this long before the timeout: 20% of the remaining time, at most 5 s. */
export function safetyMarginMs(remainingMs: number): number {
  return Math.min(5_000, Math.floor(remainingMs * 0.2));
}

let client: S3Client | undefined;

export async function handler(event: unknown, context?: LambdaContext): Promise<ExtractSummary> {
  const { fields, time } = parseEvent(event);
  const timezone = process.env['ETL_TIMEZONE'] || 'UTC';
  const date = fields.date ?? dateInTimeZone(time ?? new Date(), timezone);
  if (!/^s3:\/\//i.test(fields.to)) {
    // The only writable place in a Lambda is /tmp.
    const abs = resolve(fields.to);
    if (abs !== '/tmp' && !abs.startsWith('/tmp' + sep)) {
      throw new SluiceError('USAGE', `refusing to write to ${fields.to}: a Lambda may only write under /tmp; use s3://bucket/prefix`);
    }
  }

  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  if (context && typeof context.getRemainingTimeInMillis === 'function') {
    const remaining = context.getRemainingTimeInMillis();
    const budget = Math.max(0, remaining - safetyMarginMs(remaining));
    timer = setTimeout(() => {
      ac.abort(
        new SluiceError('TIMEOUT', `stopped ${safetyMarginMs(remaining)} ms before the Lambda timeout; nothing was written at the key (multipart aborted); raise the function timeout`, {
          stage: 'extract',
          retryable: true,
        }),
      );
    }, budget);
  }
  try {
    client ??= createS3Client();
    const summary = await extractToRawZone({
      source: fields.source,
      to: fields.to,
      dataset: fields.dataset,
      date,
      timezone,
      // Event field, or the function's configuration (env) for a private-network deployment.
      allowPrivateNetwork: fields.allowPrivateNetwork ?? process.env['SLUICE_ALLOW_PRIVATE_NETWORK'] === 'true',
      s3Client: client,
      signal: ac.signal,
      onEvent: (e) => console.warn(JSON.stringify({ level: 'warn', type: e.type, message: e.message })),
    });
    if (inLambda()) console.log(JSON.stringify({ level: 'info', ...summary }));
    return summary;
  } catch (e) {
    const err = ac.signal.aborted && ac.signal.reason instanceof SluiceError ? ac.signal.reason : e;
    const code = err instanceof SluiceError ? err.code : 'INTERNAL';
    const message = err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
    if (inLambda()) console.error(JSON.stringify({ level: 'error', code, message }));
    throw err;
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/** Accepts `{ source, to, dataset, … }` or an EventBridge event carrying them in `detail`. */
export function parseEvent(event: unknown): { fields: ExtractEvent; time?: Date } {
  if (event === null || typeof event !== 'object') throw usage('the event must be a JSON object with source, to and dataset');
  const e = event as Record<string, unknown>;
  const detail = e['detail'];
  const raw = detail !== null && typeof detail === 'object' ? (detail as Record<string, unknown>) : e;
  const str = (k: string): string => {
    const v = raw[k];
    if (typeof v !== 'string' || v === '') throw usage(`the event needs a "${k}" string`);
    return v;
  };
  const fields: ExtractEvent = { source: str('source'), to: str('to'), dataset: str('dataset') };
  if (raw['date'] !== undefined) {
    if (typeof raw['date'] !== 'string') throw usage('"date" must be a YYYY-MM-DD string');
    fields.date = raw['date'];
  }
  if (raw['allowPrivateNetwork'] !== undefined) fields.allowPrivateNetwork = raw['allowPrivateNetwork'] === true;
  const out: { fields: ExtractEvent; time?: Date } = { fields };
  if (typeof e['time'] === 'string' && !Number.isNaN(Date.parse(e['time']))) out.time = new Date(e['time']);
  return out;
}

/** Structured log lines go to CloudWatch; a local harness prints the result itself. */
function inLambda(): boolean {
  return process.env['AWS_LAMBDA_FUNCTION_NAME'] !== undefined;
}

function usage(message: string): SluiceError {
  return new SluiceError('USAGE', message, { stage: 'extract' });
}
