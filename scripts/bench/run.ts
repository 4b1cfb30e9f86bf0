/**
 * `npm run bench -- <name>`: runs one benchmark; each prints one JSON line per scenario with
 * bench, per_s, limit_per_s (the raw cost of the same work in the same run), ratio and
 * peak_rss_mb.
 */
const benches: Record<string, () => Promise<unknown>> = {
  "tenant-open": () => import("./tenant-open"),
  import: () => import("./import"),
  segment: () => import("./segment"),
  "contacts-search": () => import("./contacts-search"),
  dispatch: () => import("./dispatch"),
  webhooks: () => import("./webhooks"),
  crash: () => import("./crash"),
  campaign: () => import("./campaign"),
  dsar: () => import("./dsar"),
  inbox: () => import("./inbox"),
};

const name = process.argv[2];
if (!name || !benches[name]) {
  console.error(`usage: npm run bench -- <${Object.keys(benches).join("|")}>`);
  process.exit(2);
}
await benches[name]!();
