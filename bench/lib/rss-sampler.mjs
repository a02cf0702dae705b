// Peak-RSS sampler for a child process *tree* (Linux /proc only).
//
// Method:
//  - Every `intervalMs` (default 10 ms) the parent walks the tree rooted at the
//    child's pid: for each known pid it lists /proc/<pid>/task/*/children (the
//    kernel's per-thread child list; a fork from a worker thread shows up under
//    that thread). If that file does not exist (kernel without
//    CONFIG_PROC_CHILDREN) it falls back to scanning /proc/*/stat for ppids.
//  - For every process in the tree it reads /proc/<pid>/status and takes VmRSS
//    (resident anon + file + shmem pages, kB) and VmHWM (the kernel's own
//    high-water mark of VmRSS for that process, kB).
//  - peakSum   = max over ticks of sum(VmRSS) across the tree (what the machine
//                actually had to hold at one moment; a short spike between two
//                ticks can be missed).
//  - rootHwm   = the last VmHWM read for the root process. VmHWM is monotonic and
//                maintained by the kernel, so it catches spikes between ticks; it
//                is read on every tick, i.e. at most one interval before exit
//                (a zombie has no mm, so it cannot be read after exit).
//  - maxProcHwm = the largest VmHWM seen for any single process in the tree.
//  - atPeak    = RssAnon/RssFile/RssShmem/Threads summed over the tree at the
//                tick where peakSum was reached (diagnostic: anon = heap/buffers/
//                wasm memory, file = mapped binaries/libraries/files).
//  - cpuS      = user+system CPU seconds of the tree (utime+stime from
//                /proc/<pid>/stat, USER_HZ = 100 on Linux; last value read per
//                pid, so up to one interval is missed at exit). Unlike wall time
//                it barely moves when other work shares the cores.
//  - peak      = max(peakSum, maxProcHwm): the reported figure. For a single
//                process (Node + worker threads share one mm) this is its HWM.
// Worker threads share their process's address space, so they are included in
// that process's VmRSS automatically.
import fs from 'node:fs';

const HAS_CHILDREN_FILE = (() => {
  try {
    const tids = fs.readdirSync(`/proc/${process.pid}/task`);
    fs.readFileSync(`/proc/${process.pid}/task/${tids[0]}/children`);
    return true;
  } catch {
    return false;
  }
})();

function childrenOf(pid) {
  const out = [];
  let tids;
  try { tids = fs.readdirSync(`/proc/${pid}/task`); } catch { return out; }
  for (const tid of tids) {
    let s;
    try { s = fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'latin1'); } catch { continue; }
    for (const p of s.split(' ')) if (p) out.push(Number(p));
  }
  return out;
}

function treeByScan(root) {
  const parent = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (d.charCodeAt(0) < 48 || d.charCodeAt(0) > 57) continue;
    try {
      const s = fs.readFileSync(`/proc/${d}/stat`, 'latin1');
      // pid (comm) state ppid ... ; comm may contain spaces/parens -> split after last ')'
      const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(d), Number(rest[1]));
    } catch { /* gone */ }
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) {
    for (const [p, pp] of parent) if (pp === tree[i]) tree.push(p);
  }
  return tree;
}

function tree(root) {
  if (!HAS_CHILDREN_FILE) return treeByScan(root);
  const out = [root];
  for (let i = 0; i < out.length; i++) out.push(...childrenOf(out[i]));
  return out;
}

const USER_HZ = 100;
function readCpuS(pid) {
  try {
    const st = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    // fields after comm: [0]=state ... utime is field 14 overall -> index 11 here, stime index 12
    return (Number(f[11]) + Number(f[12])) / USER_HZ;
  } catch {
    return null;
  }
}

function readStatus(pid) {
  let s;
  try { s = fs.readFileSync(`/proc/${pid}/status`, 'latin1'); } catch { return null; }
  const rss = /VmRSS:\s+(\d+) kB/.exec(s);
  const hwm = /VmHWM:\s+(\d+) kB/.exec(s);
  if (!rss) return null; // zombie / kernel thread
  const kb = (re) => { const m = re.exec(s); return m ? Number(m[1]) * 1024 : 0; };
  return {
    rss: Number(rss[1]) * 1024, hwm: hwm ? Number(hwm[1]) * 1024 : 0,
    // breakdown, parsed lazily only for the peak tick
    detail: () => ({
      anon: kb(/RssAnon:\s+(\d+) kB/), file: kb(/RssFile:\s+(\d+) kB/), shmem: kb(/RssShmem:\s+(\d+) kB/),
      threads: Number(/Threads:\s+(\d+)/.exec(s)?.[1] ?? 0),
    }),
  };
}

/**
 * Start sampling the tree rooted at `rootPid`. Call `stop()` when the child has
 * exited (or just before, if you can) to get the figures.
 */
export function sampleTree(rootPid, { intervalMs = 10 } = {}) {
  let peakSum = 0;
  let rootHwm = 0;
  let maxProcHwm = 0;
  let maxProcs = 0;
  let samples = 0;
  let atPeak = null; // RssAnon/RssFile/RssShmem/Threads summed over the tree at the peak-sum tick
  const cpu = new Map(); // pid -> last CPU seconds seen
  const tick = () => {
    const pids = tree(rootPid);
    let sum = 0;
    let n = 0;
    const sts = [];
    for (const pid of pids) {
      const st = readStatus(pid);
      if (!st) continue;
      sts.push(st);
      n++;
      const c = readCpuS(pid);
      if (c != null && c >= (cpu.get(pid) ?? 0)) cpu.set(pid, c);
      sum += st.rss;
      if (st.hwm > maxProcHwm) maxProcHwm = st.hwm;
      if (pid === rootPid && st.hwm > rootHwm) rootHwm = st.hwm;
    }
    if (n > 0) samples++;
    if (n > maxProcs) maxProcs = n;
    if (sum > peakSum) {
      peakSum = sum;
      atPeak = { anon: 0, file: 0, shmem: 0, threads: 0 };
      for (const st of sts) { const d = st.detail(); for (const k in atPeak) atPeak[k] += d[k]; }
    }
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  return {
    /** one extra sample now (e.g. on the child's stdout 'end', before it is reaped) */
    tick,
    stop() {
      clearInterval(timer);
      return {
        peakSum, rootHwm, maxProcHwm, maxProcs, samples, atPeak,
        cpuS: [...cpu.values()].reduce((a, b) => a + b, 0),
        peak: Math.max(peakSum, maxProcHwm),
        method: HAS_CHILDREN_FILE ? 'task-children' : 'proc-scan',
      };
    },
  };
}
