// A preload (node --import) for the whole-process benches: when the process exits, writes its CPU
// time (user + system, µs) and peak RSS (VmHWM, KB: the peak of its own address space, which
// process.resourceUsage().maxRSS is not after fork + exec) as one JSON object to the file named by
// CREDGATE_BENCH_USAGE. Nothing else: the process runs unchanged.
import fs from 'node:fs';

const file = process.env.CREDGATE_BENCH_USAGE;
if (file) {
  process.on('exit', () => {
    const u = process.resourceUsage();
    let kb = u.maxRSS;
    try {
      kb = Number(/^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]);
    } catch {}
    fs.writeFileSync(file, JSON.stringify({ cpuUs: u.userCPUTime + u.systemCPUTime, peakRssKB: kb }));
  });
}
