/** The summary every command prints with `--json` (last line of stdout). */
export interface RunSummary {
  rows_in: number;
  rows_out: number;
  rows_rejected: number;
  files: string[];
  bytes_in: number;
  peak_rss_bytes: number;
  duration_ms: number;
  [extra: string]: unknown;
}

/**
 * Tracks the peak resident set size of this process. `process.resourceUsage().maxRSS`
 * is the kernel's high-water mark (KiB), so sampling is not needed.
 */
export function peakRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}
