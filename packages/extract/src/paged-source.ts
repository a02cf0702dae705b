import { createHash } from 'node:crypto';
import { SluiceError } from '@sluice/core';
import type { Storage } from '@sluice/core/storage';
import { extractError } from './errors.js';
import { openHttpSource } from './http-source.js';
import type { HttpSourceOptions } from './http-source.js';
import { provenanceToMetadata } from './provenance.js';
import type { Provenance } from './provenance.js';
import { dataKey } from './raw-zone.js';
import { redactUrl } from './redact.js';
import { RetryBudget } from './retry.js';
import { SLUICE_VERSION } from './version.js';

export interface PaginationOptions {
  /** Where the next page's URL comes from: the `Link: <…>; rel="next"` header, or a JSON field (dotted path, e.g. `links.next`). */
  next: 'link-header' | { jsonField: string };
  /** Guard against endless paging. Default 1000. */
  maxPages?: number;
  /** Pages are held in memory to find the next link; larger ones fail. Default 16 MiB. */
  maxPageBytes?: number;
}

export interface PageSummary {
  page: number;
  status: 'written' | 'unchanged';
  uri: string;
  bytes: number;
  sha256: string;
}

export const DEFAULT_MAX_PAGES = 1000;
export const DEFAULT_MAX_PAGE_BYTES = 16 * 1024 * 1024;

/** `page-00001.json`, … */
export function pageName(n: number): string {
  return `page-${String(n).padStart(5, '0')}.json`;
}

/** The `rel="next"` target of an RFC 8288 Link header. */
export function nextFromLinkHeader(link: string | undefined): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (m && /;\s*rel\s*=\s*"?([^";]*\s)?next(\s[^";]*)?"?\s*(;|$)/i.test(m[2] ?? '')) return m[1];
  }
  return undefined;
}

/** A dotted-path string field of a JSON document (`links.next`). */
export function nextFromJsonField(body: Buffer, field: string): string | undefined {
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    throw extractError('IO', `a page is not JSON, so its "${field}" field cannot be read; use next: 'link-header' for this API`);
  }
  for (const k of field.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return typeof v === 'string' && v !== '' ? v : undefined;
}

interface PagedContext {
  dest: Storage;
  dataset: string;
  date: string;
  writeManifest: (name: string, provenance: Provenance) => Promise<void>;
}

/**
 * Follows a paged API and stores each page body unchanged as its own object.
 * Pages are small by nature and buffered (bounded by `maxPageBytes`), so each
 * one is hashed before it is written: an unchanged page writes nothing, a
 * changed one is a single atomic put with full provenance.
 */
export async function extractPages(
  startUrl: string,
  http: HttpSourceOptions,
  pagination: PaginationOptions,
  ctx: PagedContext,
): Promise<{ pages: PageSummary[]; bytes: number; sha256: string; fetchedAt: string; attempts: number }> {
  const maxPages = pagination.maxPages ?? DEFAULT_MAX_PAGES;
  const maxBytes = pagination.maxPageBytes ?? DEFAULT_MAX_PAGE_BYTES;
  const pages: PageSummary[] = [];
  const all = createHash('sha256');
  const seen = new Set<string>();
  const fetchedAt = new Date().toISOString();
  let attempts = 0;
  let total = 0;
  let url: string | undefined = startUrl;
  for (let n = 1; url !== undefined; n++) {
    if (n > maxPages) {
      throw extractError('TOO_MANY_PAGES', `stopped after ${maxPages} pages of ${redactUrl(startUrl)}: the API still offers a next page; raise maxPages if this is expected`);
    }
    seen.add(url);
    const budget = new RetryBudget(http, http.signal);
    let body: Buffer | undefined;
    let info: Awaited<ReturnType<typeof openHttpSource>> | undefined;
    while (body === undefined) {
      info = await openHttpSource(url, http, budget);
      try {
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const c of info.body) {
          size += c.length;
          if (size > maxBytes) {
            info.close();
            throw extractError('PAGE_TOO_LARGE', `page ${n} of ${redactUrl(startUrl)} is over ${maxBytes} bytes; raise maxPageBytes`);
          }
          chunks.push(c);
        }
        body = Buffer.concat(chunks);
      } catch (e) {
        if (e instanceof SluiceError && e.code === 'SOURCE_RESTART') continue;
        throw e;
      }
    }
    attempts += budget.attempts;
    const src = info as NonNullable<typeof info>;
    const name = pageName(n);
    const key = dataKey(ctx.dataset, ctx.date, name);
    const sha256 = createHash('sha256').update(body).digest('hex');
    all.update(body);
    total += body.length;
    const prev = await ctx.dest.head(key);
    let status: PageSummary['status'] = 'unchanged';
    if (!prev || prev.metadata['sha256'] !== sha256 || prev.size !== body.length) {
      const prov: Provenance = { source: redactUrl(url), fetched_at: fetchedAt, bytes: body.length, sha256, sluice_version: SLUICE_VERSION };
      if (src.etag !== undefined) prov.upstream_etag = src.etag;
      if (src.lastModified !== undefined) prov.upstream_last_modified = src.lastModified;
      if (src.contentEncoding !== undefined) prov.upstream_content_encoding = src.contentEncoding;
      const one = body;
      await ctx.dest.put(
        key,
        (async function* () {
          yield one;
        })(),
        { metadata: provenanceToMetadata(prov), ...(src.contentType ? { contentType: src.contentType } : {}), ...(http.signal ? { signal: http.signal } : {}) },
      );
      await ctx.writeManifest(name, prov);
      status = 'written';
    }
    pages.push({ page: n, status, uri: ctx.dest.uriFor(key), bytes: body.length, sha256 });

    const rawNext: string | undefined =
      pagination.next === 'link-header' ? nextFromLinkHeader(src.link) : nextFromJsonField(body, pagination.next.jsonField);
    const next: string | undefined = rawNext === undefined ? undefined : new URL(rawNext, url).href;
    if (next !== undefined && seen.has(next)) {
      throw extractError('TOO_MANY_PAGES', `page ${n} of ${redactUrl(startUrl)} links back to an earlier page; the API is looping`);
    }
    url = next;
  }
  return { pages, bytes: total, sha256: all.digest('hex'), fetchedAt, attempts };
}
