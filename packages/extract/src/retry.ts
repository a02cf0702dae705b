import { SluiceError } from '@sluice/core';
import { extractError } from './errors.js';

export interface RetryOptions {
  /** Total tries of one source, first included (resumes and restarts count). Default 5. */
  maxAttempts?: number;
  /** Base of the exponential backoff. Default 500 ms. */
  retryBaseDelayMs?: number;
  /** Cap of one backoff sleep. Default 20 s. */
  retryMaxDelayMs?: number;
}

export const DEFAULT_MAX_ATTEMPTS = 5;
export const DEFAULT_RETRY_BASE_DELAY_MS = 500;
export const DEFAULT_RETRY_MAX_DELAY_MS = 20_000;

/**
 * A bounded budget of attempts shared by everything that re-fetches one
 * source (first request, resumes, full restarts), with "full jitter"
 * exponential backoff: sleep = random(0, min(cap, base·2^n)).
 */
export class RetryBudget {
  readonly maxAttempts: number;
  private readonly base: number;
  private readonly cap: number;
  /** Attempts started so far. */
  attempts = 1;

  constructor(
    options: RetryOptions = {},
    private readonly signal?: AbortSignal,
  ) {
    this.maxAttempts = Math.max(1, options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS);
    this.base = Math.max(0, options.retryBaseDelayMs ?? DEFAULT_RETRY_BASE_DELAY_MS);
    this.cap = Math.max(this.base, options.retryMaxDelayMs ?? DEFAULT_RETRY_MAX_DELAY_MS);
  }

  /**
   * Called after a retryable failure: throws `exhausted(err)` when no attempt
   * is left, else sleeps a jittered backoff and counts the next attempt.
   */
  async retry(err: unknown, exhausted: (err: unknown, attempts: number) => Error): Promise<void> {
    if (this.attempts >= this.maxAttempts) throw exhausted(err, this.attempts);
    const delay = Math.random() * Math.min(this.cap, this.base * 2 ** (this.attempts - 1));
    await sleep(delay, this.signal);
    this.attempts++;
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(abortError(signal as AbortSignal));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function abortError(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  if (r instanceof SluiceError) return r;
  return extractError('ABORTED', 'the extract was cancelled; nothing was written at the key', { cause: r });
}
