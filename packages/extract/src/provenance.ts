/** What we know about where an object came from. */
export interface Provenance {
  /** Source URL or path, credentials removed. */
  source: string;
  fetched_at: string;
  bytes: number;
  sha256: string;
  upstream_etag?: string;
  upstream_last_modified?: string;
  /** Content-Encoding as sent by the server (e.g. gzip); the bytes are stored undecoded. */
  upstream_content_encoding?: string;
  content_type?: string;
  sluice_version: string;
}

/** The JSON manifest written beside (never inside) the data folder. */
export interface Manifest extends Provenance {
  manifest_version: 1;
  /** URI of the data object this manifest describes. */
  uri: string;
  dataset: string;
  date: string;
}

/**
 * S3 user metadata names (sent as `x-amz-meta-<name>`). Hyphens, not
 * underscores: some proxies drop header names with underscores.
 */
export const METADATA_KEYS = {
  source: 'source',
  fetched_at: 'fetched-at',
  bytes: 'bytes',
  sha256: 'sha256',
  upstream_etag: 'upstream-etag',
  upstream_last_modified: 'upstream-last-modified',
  upstream_content_encoding: 'upstream-content-encoding',
  sluice_version: 'sluice-version',
} as const;

/** Header values must be ASCII: anything else is percent-encoded. */
function ascii(v: string): string {
  return /^[\x20-\x7e]*$/.test(v) ? v : encodeURI(v);
}

export function provenanceToMetadata(p: Provenance): Record<string, string> {
  const m: Record<string, string> = {
    [METADATA_KEYS.source]: ascii(p.source),
    [METADATA_KEYS.fetched_at]: p.fetched_at,
    [METADATA_KEYS.bytes]: String(p.bytes),
    [METADATA_KEYS.sha256]: p.sha256,
    [METADATA_KEYS.sluice_version]: p.sluice_version,
  };
  if (p.upstream_etag !== undefined) m[METADATA_KEYS.upstream_etag] = ascii(p.upstream_etag);
  if (p.upstream_last_modified !== undefined) m[METADATA_KEYS.upstream_last_modified] = ascii(p.upstream_last_modified);
  if (p.upstream_content_encoding !== undefined) m[METADATA_KEYS.upstream_content_encoding] = ascii(p.upstream_content_encoding);
  return m;
}
