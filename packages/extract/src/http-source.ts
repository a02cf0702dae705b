import * as http from 'node:http';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import * as https from 'node:https';
import { SluiceError } from '@sluice/core';
import { extractError } from './errors.js';
import { redactUrl, scrubSecrets, secretsOf } from './redact.js';
import { RetryBudget, abortError } from './retry.js';
import type { RetryOptions } from './retry.js';
import { assertLiteralHostAllowed, guardedLookup } from './ssrf.js';
import { SLUICE_VERSION } from './version.js';

export const MAX_REDIRECTS = 5;
export const DEFAULT_STALL_TIMEOUT_MS = 30_000;

export interface HttpSourceOptions extends RetryOptions {
  /** Lift the SSRF block on loopback/private/link-local destinations. */
  allowPrivateNetwork?: boolean;
  /**
   * Origins (`http://host:port`) exempt from the private-network block, e.g. an
   * internal mirror. Every other hop, redirects included, is still checked.
   */
  trustedOrigins?: string[];
  /** Fail (and retry) when no byte arrives for this long while we wait for one. Default 30 s. */
  stallTimeoutMs?: number;
  /** At most 5. */
  maxRedirects?: number;
  /** Extra request headers (e.g. Authorization); never logged. */
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Sends `If-None-Match`; a 304 comes back as `notModified`. */
  ifNoneMatch?: string;
  onRetry?: (info: { attempt: number; reason: string }) => void;
}

export interface HttpSourceInfo {
  /** Final URL after redirects, credentials removed. */
  url: string;
  notModified: boolean;
  etag?: string;
  lastModified?: string;
  contentLength?: number;
  contentType?: string;
  contentEncoding?: string;
  /** The raw `Link` header, for paged APIs. */
  link?: string;
}

export interface HttpSource extends HttpSourceInfo {
  /**
   * The body, exactly as sent (no decoding). Cuts and stalls are resumed with
   * `Range` + `If-Range` when the server allows it; otherwise iteration throws
   * a retryable `SOURCE_RESTART` and the caller starts over (same budget).
   */
  body: AsyncIterable<Buffer>;
  close(): void;
}

const RETRYABLE_NET = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'UND_ERR_SOCKET', 'ECONNABORTED']);

function isRetryable(e: unknown): boolean {
  if (e instanceof SluiceError) return e.retryable;
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && RETRYABLE_NET.has(code)) return true;
  return e instanceof Error && /aborted|socket hang up/i.test(e.message);
}

/** Opens an http(s) URL: redirects (≤5), SSRF checks per hop, retries of 5xx/resets/stalls. */
export async function openHttpSource(rawUrl: string, options: HttpSourceOptions = {}, budget = new RetryBudget(options, options.signal)): Promise<HttpSource> {
  const session = new HttpSession(rawUrl, options, budget);
  return session.open();
}

class HttpSession {
  private readonly secrets: string[];
  private readonly safeUrl: string;
  private readonly baseHeaders: Record<string, string>;
  private readonly stallMs: number;
  private readonly maxRedirects: number;
  private finalUrl: URL;
  private current: IncomingMessage | undefined;

  constructor(
    rawUrl: string,
    private readonly options: HttpSourceOptions,
    private readonly budget: RetryBudget,
  ) {
    this.secrets = secretsOf(rawUrl, options.headers);
    this.safeUrl = redactUrl(rawUrl);
    let u: URL;
    try {
      u = new URL(rawUrl);
    } catch {
      throw extractError('USAGE', `not a valid URL: ${this.safeUrl}; pass an http(s) URL, a local path or s3://bucket/key`);
    }
    this.baseHeaders = {
      'user-agent': `sluice/${SLUICE_VERSION}`,
      // Ask for the bytes as stored: never let the server compress on the fly, and never decode.
      'accept-encoding': 'identity',
      ...lowerKeys(options.headers ?? {}),
    };
    if (u.username || u.password) {
      const user = decodeURIComponent(u.username);
      const pass = decodeURIComponent(u.password);
      this.baseHeaders['authorization'] ??= 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64');
      this.secrets.push(this.baseHeaders['authorization'], Buffer.from(`${user}:${pass}`).toString('base64'));
      u.username = '';
      u.password = '';
    }
    this.finalUrl = u;
    this.stallMs = options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
    this.maxRedirects = Math.min(MAX_REDIRECTS, options.maxRedirects ?? MAX_REDIRECTS);
  }

  private scrub(text: string): string {
    return scrubSecrets(text, this.secrets);
  }

  private describe(e: unknown): string {
    if (e instanceof SluiceError) return e.message;
    const code = (e as { code?: unknown } | null)?.code;
    const msg = e instanceof Error ? e.message : String(e);
    return this.scrub(typeof code === 'string' && !msg.includes(code) ? `${code}: ${msg}` : msg);
  }

  private exhausted = (e: unknown, attempts: number): Error => {
    if (e instanceof SluiceError && e.code === 'SIZE_MISMATCH') {
      return extractError('SIZE_MISMATCH', `${e.message} after ${attempts} attempts; the server keeps closing the connection early — try again later`, {
        cause: e,
        source: this.safeUrl,
      });
    }
    return extractError('RETRIES_EXHAUSTED', `GET ${this.safeUrl} failed after ${attempts} attempts: ${this.describe(e)}; try again later or raise maxAttempts`, {
      cause: e,
      source: this.safeUrl,
    });
  };

  async open(): Promise<HttpSource> {
    const headers: Record<string, string> = { ...this.baseHeaders };
    if (this.options.ifNoneMatch) headers['if-none-match'] = this.options.ifNoneMatch;
    const res = await this.requestWithRetries(headers, (r) => r.statusCode === 200 || r.statusCode === 304);
    const info: HttpSourceInfo = { url: redactUrl(this.finalUrl), notModified: res.statusCode === 304 };
    const h = res.headers;
    if (typeof h.etag === 'string') info.etag = h.etag;
    if (typeof h['last-modified'] === 'string') info.lastModified = h['last-modified'];
    if (typeof h['content-type'] === 'string') info.contentType = h['content-type'];
    if (typeof h['content-encoding'] === 'string') info.contentEncoding = h['content-encoding'];
    if (typeof h.link === 'string') info.link = h.link;
    const cl = h['content-length'];
    if (res.statusCode === 200 && typeof cl === 'string' && /^\d+$/.test(cl)) info.contentLength = Number(cl);
    if (info.notModified) res.resume();
    this.current = res;
    const validator = info.etag && !info.etag.startsWith('W/') ? info.etag : info.lastModified;
    const canResume = h['accept-ranges'] === 'bytes' && validator !== undefined;
    return {
      ...info,
      body: this.body(res, info.contentLength, canResume ? validator : undefined),
      close: () => {
        this.current?.destroy();
      },
    };
  }

  /** Yields the body; resumes after cuts/stalls while the budget allows. */
  private async *body(first: IncomingMessage, total: number | undefined, validator: string | undefined): AsyncGenerator<Buffer> {
    let res = first;
    let received = 0;
    for (;;) {
      try {
        for await (const chunk of this.stallGuarded(res)) {
          received += chunk.length;
          yield chunk;
        }
        if (total !== undefined && received !== total) {
          throw extractError('SIZE_MISMATCH', `GET ${this.safeUrl}: received ${received} of ${total} bytes announced by Content-Length`, {
            source: this.safeUrl,
          });
        }
        return;
      } catch (e) {
        res.destroy();
        if (this.options.signal?.aborted) throw abortError(this.options.signal);
        if (!isRetryable(e)) throw e;
        const cut =
          total !== undefined && !(e instanceof SluiceError && e.code === 'STALLED')
            ? extractError('SIZE_MISMATCH', `GET ${this.safeUrl}: received ${received} of ${total} bytes announced by Content-Length`, {
                cause: e,
                retryable: true,
                source: this.safeUrl,
              })
            : e;
        this.options.onRetry?.({ attempt: this.budget.attempts, reason: this.describe(cut) });
        await this.budget.retry(cut, this.exhausted);
        if (validator === undefined) {
          throw extractError('SOURCE_RESTART', `GET ${this.safeUrl} was cut at byte ${received} and the server does not support resuming; starting over`, {
            retryable: true,
            cause: e,
            source: this.safeUrl,
          });
        }
        const headers = { ...this.baseHeaders, range: `bytes=${received}-`, 'if-range': validator };
        // A retryable failure of the resume request itself counts against the same budget.
        const next = await this.requestWithRetries(headers, (r) => r.statusCode === 206 || r.statusCode === 200);
        const cr = next.headers['content-range'];
        const m = typeof cr === 'string' ? /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(cr) : null;
        if (next.statusCode !== 206 || !m || Number(m[1]) !== received || (total !== undefined && m[3] !== '*' && Number(m[3]) !== total)) {
          next.destroy();
          throw extractError('SOURCE_RESTART', `GET ${this.safeUrl}: the server did not resume at byte ${received} (the file may have changed); starting over`, {
            retryable: true,
            source: this.safeUrl,
          });
        }
        res = next;
        this.current = next;
      }
    }
  }

  /**
   * Iterates a response, failing with a retryable STALLED when no byte arrives
   * for `stallMs` *while we wait for one*: time spent in backpressure (the
   * uploader is busy) does not count as a stall.
   */
  private async *stallGuarded(res: IncomingMessage): AsyncGenerator<Buffer> {
    let waitingSince = 0;
    const timer = setInterval(
      () => {
        if (waitingSince !== 0 && Date.now() - waitingSince > this.stallMs) {
          res.destroy(
            extractError('STALLED', `GET ${this.safeUrl}: no data for ${this.stallMs} ms`, { retryable: true, source: this.safeUrl }),
          );
        }
      },
      Math.max(5, Math.min(1000, this.stallMs / 4)),
    );
    timer.unref();
    const it = res[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    try {
      for (;;) {
        waitingSince = Date.now();
        const r = await it.next();
        waitingSince = 0;
        if (r.done) return;
        yield r.value;
      }
    } finally {
      clearInterval(timer);
    }
  }

  /** One logical request: follows redirects and retries retryable failures until `accept(res)`. */
  private async requestWithRetries(headers: Record<string, string>, accept: (r: IncomingMessage) => boolean): Promise<IncomingMessage> {
    for (;;) {
      let res: IncomingMessage;
      try {
        res = await this.followRedirects(headers);
      } catch (e) {
        if (this.options.signal?.aborted) throw abortError(this.options.signal);
        if (!isRetryable(e)) throw e instanceof SluiceError ? e : this.networkError(e);
        this.options.onRetry?.({ attempt: this.budget.attempts, reason: this.describe(e) });
        await this.budget.retry(e, this.exhausted);
        continue;
      }
      if (accept(res)) return res;
      const status = res.statusCode ?? 0;
      res.resume();
      const err = extractError('HTTP_STATUS', `GET ${redactUrl(this.finalUrl)} answered ${status} ${res.statusMessage ?? ''}`.trimEnd(), {
        retryable: status >= 500 || status === 429 || status === 408,
        source: this.safeUrl,
      });
      if (!err.retryable) {
        throw extractError('HTTP_STATUS', `${err.message}; check the URL and credentials (not retried)`, { source: this.safeUrl });
      }
      this.options.onRetry?.({ attempt: this.budget.attempts, reason: err.message });
      await this.budget.retry(err, this.exhausted);
    }
  }

  private networkError(e: unknown): Error {
    return extractError('NETWORK', `GET ${this.safeUrl} failed: ${this.describe(e)}; check the URL and network`, { cause: e, source: this.safeUrl });
  }

  private async followRedirects(headers: Record<string, string>): Promise<IncomingMessage> {
    let url = this.finalUrl;
    let hdrs = headers;
    for (let hop = 0; ; hop++) {
      const res = await this.requestOnce(url, hdrs);
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (![301, 302, 303, 307, 308].includes(status) || !location) {
        this.finalUrl = url;
        return res;
      }
      res.resume();
      if (hop >= this.maxRedirects) {
        throw extractError('TOO_MANY_REDIRECTS', `GET ${this.safeUrl} redirected more than ${this.maxRedirects} times; check the URL`, { source: this.safeUrl });
      }
      const next = new URL(location, url);
      if (next.origin !== url.origin) {
        // Credentials are for the origin they were given for.
        hdrs = Object.fromEntries(Object.entries(hdrs).filter(([k]) => k !== 'authorization' && k !== 'cookie'));
      }
      if (next.username || next.password) {
        next.username = '';
        next.password = '';
      }
      url = next;
    }
  }

  private requestOnce(url: URL, headers: OutgoingHttpHeaders): Promise<IncomingMessage> {
    const shown = redactUrl(url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw extractError('UNSUPPORTED_SCHEME', `refusing to fetch ${shown}: only http and https are allowed`, { source: shown });
    }
    const guarded = !this.options.allowPrivateNetwork && !(this.options.trustedOrigins ?? []).includes(url.origin);
    if (guarded) assertLiteralHostAllowed(url.hostname, shown);
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = mod.request(url, {
        method: 'GET',
        headers,
        agent: false,
        ...(guarded ? { lookup: guardedLookup(() => shown) } : {}),
        ...(this.options.signal ? { signal: this.options.signal } : {}),
        timeout: this.stallMs,
      });
      req.on('timeout', () => {
        req.destroy(extractError('STALLED', `GET ${shown}: no response within ${this.stallMs} ms`, { retryable: true, source: shown }));
      });
      req.on('error', reject);
      req.on('response', (res: IncomingMessage) => {
        req.setTimeout(0);
        resolve(res);
      });
      req.end();
    });
  }
}

function lowerKeys(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}
