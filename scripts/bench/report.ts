import { readFileSync } from "node:fs";

export function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

/** Another process's peak resident memory (VmHWM: all its threads together), MiB. */
export function processPeakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

/** Times fn over `count` units of work and returns units per second. */
export function perSecond(count: number, fn: () => void): { seconds: number; perS: number } {
  const started = process.hrtime.bigint();
  fn();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { seconds: Number(seconds.toFixed(3)), perS: Math.round(count / seconds) };
}

export function report(line: Record<string, unknown> & { per_s: number; limit_per_s: number }) {
  console.log(
    JSON.stringify({
      ...line,
      ratio: Number((line.per_s / line.limit_per_s).toFixed(2)),
      peak_rss_mb: peakRssMb(),
    }),
  );
}
