/**
 * `sluice extract <source> --to <dest> --dataset <name>`: a thin adapter over
 * @sluice/extract's extractToRawZone.
 */
import type { Command } from 'commander';

interface ExtractFlags {
  to: string;
  dataset: string;
  date?: string;
  json?: boolean;
  allowPrivateNetwork?: boolean;
  timezone?: string;
}

export function registerExtract(program: Command): void {
  program
    .command('extract')
    .description('Copy a raw source (http(s) URL, local path or s3://bucket/key) byte for byte into the raw zone, with provenance.')
    .argument('<source>', 'http(s) URL, local path, or s3://bucket/key')
    .requiredOption('--to <dest>', 's3://bucket/prefix or a local folder')
    .requiredOption('--dataset <name>', 'dataset name: the object lands at <dest>/<dataset>/dt=<date>/<basename>')
    .option('--date <YYYY-MM-DD>', 'partition date (default: today in --timezone)')
    .option('--timezone <tz>', 'IANA zone for the default date (default UTC)')
    .option('--json', 'print the summary as one JSON object on the last line of stdout')
    .option('--allow-private-network', 'allow loopback, private and link-local addresses (local use only)')
    .action(async (source: string, flags: ExtractFlags) => {
      // Loaded on demand: the AWS SDK costs ~20 MB of RSS that transform runs should not pay.
      const { extractToRawZone } = await import('@sluice/extract');
      const summary = await extractToRawZone({
        source,
        to: flags.to,
        dataset: flags.dataset,
        ...(flags.date === undefined ? {} : { date: flags.date }),
        ...(flags.timezone === undefined ? {} : { timezone: flags.timezone }),
        allowPrivateNetwork: flags.allowPrivateNetwork === true,
        onEvent: (ev) => {
          if (!flags.json || ev.type !== 'retry') process.stderr.write(`sluice: ${ev.message}\n`);
        },
      });
      if (flags.json) process.stdout.write(JSON.stringify(summary) + '\n');
      else process.stdout.write(`sluice extract: ${summary.status} ${summary.uri} (${summary.bytes} bytes, sha256 ${summary.sha256})\n`);
    });
}
