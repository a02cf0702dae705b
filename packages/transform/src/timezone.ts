/**
 * Offset-less timestamps are wall-clock times in `--timezone`. This turns a
 * wall-clock instant (microseconds as if UTC) into the zone's UTC offset.
 */

const MICROS_PER_HOUR = 3_600_000_000;

/** Returns a function giving the offset (microseconds, local − UTC) of a local wall-clock time. */
export function makeLocalOffset(timeZone: string): (localMicros: number) => number {
  if (/^(utc|z|gmt|etc\/utc)$/i.test(timeZone)) return () => 0;
  let fmt: Intl.DateTimeFormat;
  try {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    throw new RangeError(`unknown time zone "${timeZone}"; use an IANA name such as Asia/Seoul or UTC`);
  }
  const offsetAtUtcMs = (utcMs: number): number => {
    const parts = fmt.formatToParts(new Date(utcMs));
    const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
    const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
    return asUtc - Math.floor(utcMs / 1000) * 1000;
  };
  // Offsets change at most at hour boundaries in practice; cache per local hour.
  const cache = new Map<number, number>();
  return (localMicros: number): number => {
    const hour = Math.floor(localMicros / MICROS_PER_HOUR);
    let off = cache.get(hour);
    if (off === undefined) {
      const localMs = hour * 3_600_000;
      const o1 = offsetAtUtcMs(localMs);
      const o2 = offsetAtUtcMs(localMs - o1);
      off = o2 * 1000;
      if (cache.size > 100_000) cache.clear();
      cache.set(hour, off);
    }
    return off;
  };
}
