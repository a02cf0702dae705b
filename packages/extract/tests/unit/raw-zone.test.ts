import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  SLUICE_VERSION,
  blockedRange,
  dataKey,
  dateInTimeZone,
  manifestKey,
  nextFromJsonField,
  nextFromLinkHeader,
  pageName,
  parseSource,
  redactHeaders,
  redactUrl,
  sourceName,
  validateDataset,
  validateDate,
} from '@sluice/extract';

describe('raw zone layout', () => {
  it('puts data at <dataset>/dt=<date>/<name> and manifests under _sluice/manifests', () => {
    expect(dataKey('sales', '2024-05-31', 'x.csv')).toBe('sales/dt=2024-05-31/x.csv');
    expect(manifestKey('sales', '2024-05-31', 'x.csv')).toBe('_sluice/manifests/sales/dt=2024-05-31/x.csv.manifest.json');
  });

  it('refuses dataset names that escape the destination', () => {
    for (const bad of ['..', '../x', 'a/b', '/abs', 'a\0b', '', '_sluice', '.hidden', 'a..b']) {
      expect(() => validateDataset(bad), bad).toThrow(expect.objectContaining({ code: 'USAGE' }));
    }
    expect(validateDataset('sales_2024-v1.0')).toBe('sales_2024-v1.0');
  });

  it('accepts only real YYYY-MM-DD dates', () => {
    for (const bad of ['2024-13-01', '2024-02-30', '2024/01/01', '24-01-01', '../2024-01-01', '2024-01-01\0']) {
      expect(() => validateDate(bad), bad).toThrow(expect.objectContaining({ code: 'USAGE' }));
    }
    expect(validateDate('2024-02-29')).toBe('2024-02-29');
  });

  it('computes today in a time zone', () => {
    const at = new Date('2024-01-01T20:00:00Z');
    expect(dateInTimeZone(at)).toBe('2024-01-01');
    expect(dateInTimeZone(at, 'Asia/Seoul')).toBe('2024-01-02');
    expect(dateInTimeZone(new Date('2024-01-01T03:00:00Z'), 'America/New_York')).toBe('2023-12-31');
    expect(() => dateInTimeZone(at, 'Mars/Olympus')).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });

  it('names objects after the basename of the source path', () => {
    expect(sourceName(parseSource('https://h/a/b/data.csv.gz?token=x'))).toBe('data.csv.gz');
    expect(sourceName(parseSource('s3://bucket/p/q/file.json'))).toBe('file.json');
    expect(sourceName(parseSource('/tmp/x/y.parquet'))).toBe('y.parquet');
    expect(sourceName(parseSource('https://h/a/my%20file.csv'))).toBe('my file.csv');
    expect(() => parseSource('ftp://h/x')).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });

  it('keeps its version in step with package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(SLUICE_VERSION).toBe(pkg.version);
  });
});

describe('secrets', () => {
  it('removes userinfo and credential-like query values', () => {
    const r = redactUrl('https://bob:hunter2@api.example.com/x.csv?token=abc123&page=2&X-Amz-Signature=deadbeef&api_key=k1&sig=s');
    expect(r).not.toMatch(/bob|hunter2|abc123|deadbeef|k1\b/);
    expect(r).toContain('page=2');
    expect(r).toContain('token=REDACTED');
    expect(redactHeaders({ Authorization: 'Bearer x', Accept: 'a' })).toEqual({ Authorization: 'REDACTED', Accept: 'a' });
  });
});

describe('SSRF ranges', () => {
  it.each([
    ['127.0.0.1', /loopback/],
    ['::1', /loopback/],
    ['169.254.169.254', /metadata/],
    ['fe80::1', /link-local/],
    ['10.1.2.3', /private/],
    ['172.16.0.1', /private/],
    ['192.168.1.1', /private/],
    ['fc00::1', /unique-local/],
    ['fd12:3456::1', /unique-local/],
    ['100.64.0.1', /carrier-grade/],
    ['0.0.0.0', /unspecified/],
    ['::', /unspecified/],
    ['::ffff:127.0.0.1', /loopback/],
  ])('blocks %s', (ip, why) => {
    expect(blockedRange(ip)).toMatch(why);
  });

  it.each(['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '172.32.0.1', '100.128.0.1'])('allows public %s', (ip) => {
    expect(blockedRange(ip)).toBeUndefined();
  });
});

describe('paging helpers', () => {
  it('reads rel="next" from Link headers', () => {
    expect(nextFromLinkHeader('<https://a/p2>; rel="next", <https://a/p9>; rel="last"')).toBe('https://a/p2');
    expect(nextFromLinkHeader('<https://a/p9>; rel="last", </p3>; rel=next')).toBe('/p3');
    expect(nextFromLinkHeader('<https://a/p1>; rel="prev"')).toBeUndefined();
    expect(nextFromLinkHeader(undefined)).toBeUndefined();
  });
  it('reads a dotted JSON field', () => {
    expect(nextFromJsonField(Buffer.from('{"links":{"next":"/p2"}}'), 'links.next')).toBe('/p2');
    expect(nextFromJsonField(Buffer.from('{"links":{"next":null}}'), 'links.next')).toBeUndefined();
  });
  it('names pages page-00001.json, …', () => {
    expect(pageName(1)).toBe('page-00001.json');
    expect(pageName(12345)).toBe('page-12345.json');
  });
});
