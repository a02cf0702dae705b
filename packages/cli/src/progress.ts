/**
 * A progress bar on stderr (only when stderr is a terminal and --json is off):
 * bytes done / total and rows per second.
 */
import cliProgress from 'cli-progress';
import { formatBytes } from '@sluice/core';

export interface Progress {
  update: (p: { bytesRead: number; totalBytes: number | undefined; rows: number }) => void;
  clear: () => void;
  stop: () => void;
}

export function makeProgress(stream: NodeJS.WriteStream): Progress {
  const started = performance.now();
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: (options, params, payload: { done: string; total: string; rate: string }) => {
        const width = options.barsize ?? 30;
        const filled = Math.round(params.progress * width);
        const barStr = (options.barCompleteString ?? '█').slice(0, filled) + (options.barIncompleteString ?? '░').slice(0, width - filled);
        return `${barStr} ${Math.floor(params.progress * 100)}% | ${payload.done}/${payload.total} | ${payload.rate} rows/s`;
      },
      hideCursor: true,
      clearOnComplete: true,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  let begun = false;
  return {
    update: ({ bytesRead, totalBytes, rows }) => {
      const secs = (performance.now() - started) / 1000;
      const payload = {
        done: formatBytes(bytesRead),
        total: totalBytes === undefined ? '?' : formatBytes(totalBytes),
        rate: secs > 0 ? Math.round(rows / secs).toLocaleString('en-US') : '0',
      };
      const total = totalBytes ?? Math.max(bytesRead * 2, 1);
      if (!begun) {
        bar.start(total, bytesRead, payload);
        begun = true;
      } else {
        bar.setTotal(total);
        bar.update(bytesRead, payload);
      }
    },
    clear: () => {
      if (begun) stream.write('\r\x1b[K');
    },
    stop: () => {
      if (begun) bar.stop();
      begun = false;
    },
  };
}
