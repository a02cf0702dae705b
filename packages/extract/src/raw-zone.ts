import { usageError } from './errors.js';

/** Reserved top-level folder of a raw zone: manifests live here, never data. */
export const BOOKKEEPING_PREFIX = '_sluice';

const DATASET = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Refuses dataset names that could escape the destination or collide with bookkeeping. */
export function validateDataset(name: string): string {
  if (!DATASET.test(name) || name.includes('..')) {
    throw usageError(
      `invalid --dataset ${JSON.stringify(name)}: use letters, digits, ".", "_" or "-", starting with a letter or digit (no "/", "..", NUL or absolute paths)`,
    );
  }
  return name;
}

/** Checks `YYYY-MM-DD` and that the day exists. */
export function validateDate(date: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  const d = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : undefined;
  if (!m || !d || d.toISOString().slice(0, 10) !== date) {
    throw usageError(`invalid --date ${JSON.stringify(date)}: use YYYY-MM-DD, e.g. 2024-05-31`);
  }
  return date;
}

/** The calendar day of `at` in an IANA time zone (default UTC), as YYYY-MM-DD. */
export function dateInTimeZone(at: Date, timeZone = 'UTC'): string {
  let fmt: Intl.DateTimeFormat;
  try {
    fmt = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
  } catch {
    throw usageError(`invalid --timezone ${JSON.stringify(timeZone)}: use an IANA name such as UTC or Asia/Seoul`);
  }
  const parts = Object.fromEntries(fmt.formatToParts(at).map((p) => [p.type, p.value]));
  return `${parts['year']}-${parts['month']}-${parts['day']}`;
}

/** Refuses object names that are not one plain path segment. */
export function validateObjectName(name: string, source: string): string {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\\') || name.includes('\0')) {
    throw usageError(`cannot name the object after ${source}: its path has no usable file name; point at a file, not a folder`);
  }
  return name;
}

/** `<dataset>/dt=<date>` — the data folder, relative to the destination. */
export function partitionPrefix(dataset: string, date: string): string {
  return `${dataset}/dt=${date}`;
}

/** `<dataset>/dt=<date>/<name>` — where the object lands. */
export function dataKey(dataset: string, date: string, name: string): string {
  return `${partitionPrefix(dataset, date)}/${name}`;
}

/**
 * `_sluice/manifests/<dataset>/dt=<date>/<name>.manifest.json`: outside the
 * data folder *and* unambiguously named, so a transform reading
 * `<dest>/<dataset>/` can never take a manifest for data.
 */
export function manifestKey(dataset: string, date: string, name: string): string {
  return `${BOOKKEEPING_PREFIX}/manifests/${partitionPrefix(dataset, date)}/${name}.manifest.json`;
}
