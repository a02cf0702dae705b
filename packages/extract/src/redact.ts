/**
 * Secrets never reach logs, errors, metadata or manifests. A URL keeps its
 * shape but loses userinfo and the values of query parameters that look like
 * credentials (tokens, keys, signatures, AWS pre-signed `X-Amz-*` fields).
 */
const SECRET_PARAM = /(token|key|secret|signature|^sig$|password|passwd|^pwd$|auth|credential|session|^code$|^x-amz-|^x-goog-)/i;
export const REDACTED = 'REDACTED';

export function isSecretParam(name: string): boolean {
  return SECRET_PARAM.test(name);
}

/** The URL with credentials removed; non-URLs (local paths) are returned unchanged. */
export function redactUrl(input: string | URL): string {
  let u: URL;
  try {
    u = new URL(typeof input === 'string' ? input : input.href);
  } catch {
    return typeof input === 'string' ? input : String(input);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:' && u.protocol !== 's3:') return u.href;
  u.username = '';
  u.password = '';
  if (u.search) {
    const params = new URLSearchParams(u.search);
    const out = new URLSearchParams();
    for (const [k, v] of params) out.append(k, isSecretParam(k) ? REDACTED : v);
    u.search = out.toString();
  }
  return u.href;
}

/** Header names whose values are credentials. */
const SECRET_HEADER = /^(authorization|proxy-authorization|cookie|x-api-key|x-amz-security-token)$|token|secret|key/i;

export function redactHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, SECRET_HEADER.test(k) ? REDACTED : v]));
}

/**
 * Removes every known secret string from free text (for error messages that
 * embed foreign text, e.g. a server's reply or a library message).
 */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join(REDACTED);
  return out;
}

/** The secret strings inside a URL and header set, for {@link scrubSecrets}. */
export function secretsOf(url: string, headers: Record<string, string> = {}): string[] {
  const found: string[] = [];
  try {
    const u = new URL(url);
    if (u.username) found.push(u.username, decodeURIComponent(u.username));
    if (u.password) found.push(u.password, decodeURIComponent(u.password));
    for (const [k, v] of new URLSearchParams(u.search)) if (isSecretParam(k) && v) found.push(v, encodeURIComponent(v));
  } catch {
    /* not a URL */
  }
  for (const [k, v] of Object.entries(headers)) {
    if (SECRET_HEADER.test(k) && v) {
      found.push(v);
      const sp = v.indexOf(' ');
      if (sp > 0) found.push(v.slice(sp + 1));
    }
  }
  return [...new Set(found)].sort((a, b) => b.length - a.length);
}
