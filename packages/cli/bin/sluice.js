#!/usr/bin/env node
// sluice must hold a small, flat memory budget (128 MB on an 80 MB CSV, flat
// on 10x). Two process settings make that hold, and both must be in place
// before Node starts: glibc's arena count (MALLOC_ARENA_MAX; each thread that
// allocates otherwise gets its own arena, and RSS creeps with file size) and
// V8's young generation (--max-semi-space-size; it otherwise grows to 16 MB
// semi-spaces on long runs). So the binary replaces itself once with them set:
// process.execve keeps the PID, stdio and exit code, and nothing runs twice.
// SLUICE_NO_REEXEC=1 turns this off. See docs/decisions/007-process-memory-settings.md.
import { fileURLToPath } from 'node:url';

const MARK = 'SLUICE_PROCESS_SETTINGS';
if (process.env[MARK] === undefined && process.env.SLUICE_NO_REEXEC !== '1' && typeof process.execve === 'function' && process.platform === 'linux') {
  const env = { ...process.env, [MARK]: '1', MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2' };
  const semi = process.execArgv.some((a) => a.startsWith('--max-semi-space-size')) ? [] : ['--max-semi-space-size=1'];
  process.execve(process.execPath, [process.execPath, ...semi, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], env);
}

const { main } = await import('../dist/main.js');
process.exitCode = await main(process.argv.slice(2));
