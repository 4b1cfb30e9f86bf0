/**
 * campaign: queue a campaign to 1,000,000 contacts in a real server process (the runner starts
 * it on the dispatcher's visit and writes messages in slices), while a contacts page is
 * requested every 100 ms. Reports seconds to queue, per_s, page_p95_ms. The limit is a raw
 * better-sqlite3 insert of the same message rows, with the same indexes, in the same run.
 *
 *   npm run bench -- campaign           (BENCH_CONTACTS=200000 for a quicker run)
 */
import Database from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { processPeakRssMb, report } from "./report";

const CONTACTS = Number(process.env.BENCH_CONTACTS ?? 1_000_000);
const root = mkdtempSync(join(tmpdir(), "engage-bench-campaign-"));
const dataDir = join(root, "data");
process.env.DATA_DIR = dataDir;
process.env.LOG_LEVEL = "warn";
process.env.LOG_DESTINATION = "stderr";
process.env.NODE_ENV = "test";
delete process.env.BASE_URL;

const { startTestServer } = await import("../../tests/support/server");
const { createVerifiedUser, createWorkspaceFor, signedIn } =
  await import("../../tests/support/accounts");
const { openWorkspaceContext } = await import("~/domain/workspaces/access.server");
const { saveTemplate } = await import("~/domain/templates/templates.server");
const { createCampaign, reviewCampaign, submitCampaign } =
  await import("~/domain/campaigns/campaigns.server");
const { closeAllTenantDbs, tenantDbPath } = await import("~/db/tenants.server");
const { closeControlDb } = await import("~/db/control.server");
const { configureConnection } = await import("~/db/migrate.server");
const { runJob } = await import("~/jobs/runner.server");
const { privacyReindex } = await import("~/jobs/privacy-reindex.server");

const owner = await createVerifiedUser({ name: "Bench Owner" });
const workspace = createWorkspaceFor(owner, { country: "IN" });
const ctx = {
  ...openWorkspaceContext(workspace.id, { type: "user", id: owner.id }, {}),
  userId: owner.id,
};
const client = ctx.db.$client;
const seeded = performance.now();
client.transaction(() => {
  const now = Date.now();
  const contact = client.prepare(
    "INSERT INTO contacts (email, name, name_key, attributes, created_at, updated_at) VALUES (?, ?, ?, '{}', ?, ?)",
  );
  const consent = client.prepare(
    "INSERT INTO consents (contact_id, channel, status, source, at) VALUES (?, 'email', 'granted', 'bench', ?)",
  );
  const member = client.prepare(
    "INSERT INTO list_members (list_id, contact_id, added_at) VALUES (1, ?, ?)",
  );
  client.prepare("INSERT INTO lists (id, name, created_at) VALUES (1, 'Everyone', ?)").run(now);
  for (let i = 0; i < CONTACTS; i++) {
    const name = `Customer ${i}`;
    const id = contact.run(`c${i}@example.com`, name, name.toLowerCase(), now, now)
      .lastInsertRowid as number;
    // 97% consented: the rest are counted as skipped.
    if (i % 33 !== 0) consent.run(id, now);
    member.run(id, now);
  }
})();
console.error(
  `seeded ${CONTACTS} contacts in ${((performance.now() - seeded) / 1000).toFixed(1)} s`,
);
// Contacts written by raw SQL are not in the privacy subject index yet (imports index theirs):
// build it now, as a settled install has it, so the server does not rebuild it during the run.
const indexed = performance.now();
await runJob(privacyReindex, "cli");
console.error(`indexed them in ${((performance.now() - indexed) / 1000).toFixed(1)} s`);

const template = saveTemplate(ctx, {
  channel: "email",
  name: "Diwali sale",
  subject: '{{ first_name | default: "Friend" }}, our Diwali sale starts now',
  html: '<p>Hello {{ first_name | default: "there" }},</p><p>Everything is 30% off till Sunday. <a href="https://shop.example/diwali">Shop now</a></p>',
  trackLinks: true,
});
const campaign = createCampaign(ctx, {
  name: "Diwali",
  channel: "email",
  audience: { type: "list", id: 1 },
  variants: [{ key: "A", templateId: template.id }],
  schedule: { type: "at", at: Date.now() + 5_000 },
});
reviewCampaign(ctx, campaign.id, { unit: "message", unitsPerRecipient: 1 });
submitCampaign(ctx, campaign.id);

// Limit: the same rows (content is written at send time, ADR 0011) through a raw prepared insert.
const rawFile = join(root, "raw.db");
const raw = new Database(rawFile);
configureConnection(raw);
// The raw table has no contacts to point at: its foreign key is not checked (ours is).
raw.pragma("foreign_keys = OFF");
raw.exec(
  client.prepare("SELECT sql FROM sqlite_master WHERE name = 'messages'").pluck().get() as string,
);
for (const index of client
  .prepare(
    "SELECT sql FROM sqlite_master WHERE tbl_name = 'messages' AND type = 'index' AND sql IS NOT NULL",
  )
  .pluck()
  .all() as string[]) {
  raw.exec(index);
}
const rawStarted = performance.now();
const rawInsert = raw.prepare(
  `INSERT INTO messages (id, contact_id, channel, kind, recipient, status, attempts,
     next_attempt_at, idempotency_key, campaign_id, variant, created_at, updated_at)
   VALUES (?, ?, 'email', 'marketing', ?, 'queued', 0, ?, ?, 1, 'A', ?, ?)`,
);
for (let start = 0; start < CONTACTS; start += 2_000) {
  raw.transaction(() => {
    const now = Date.now();
    for (let i = start; i < Math.min(CONTACTS, start + 2_000); i++) {
      rawInsert.run(`msg_${i}`, i + 1, `c${i}@example.com`, now, `campaign:1:${i + 1}`, now, now);
    }
  })();
}
const rawSeconds = (performance.now() - rawStarted) / 1000;
raw.close();
closeAllTenantDbs();
closeControlDb();

// BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the server.
const server = await startTestServer({
  dataDir,
  env: { JOBS_ENABLED: "true" },
  nodeArgs: process.env.BENCH_SERVER_NODE_ARGS?.split(" ").filter(Boolean),
});
const browser = await signedIn(server, owner);
const page = `/w/${workspace.slug}/contacts`;
const watch = new Database(tenantDbPath(workspace.id), { readonly: true });
const latencies: number[] = [];
let polling = true;
const poller = (async () => {
  while (polling) {
    const t = performance.now();
    const response = await browser.get(page);
    await response.arrayBuffer();
    latencies.push(performance.now() - t);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
})();

let started = 0;
let finished = 0;
for (let waited = 0; waited < 600_000; waited += 50) {
  const row = watch
    .prepare("SELECT status, queued FROM campaigns WHERE id = ?")
    .get(campaign.id) as {
    status: string;
    queued: number;
  };
  if (!started && row.status !== "scheduled") started = performance.now();
  if (started && row.queued >= CONTACTS && row.status !== "queuing") {
    finished = performance.now();
    break;
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
}
polling = false;
await poller;
const written = watch
  .prepare("SELECT count(*) FROM messages WHERE campaign_id = ?")
  .pluck()
  .get(campaign.id) as number;
const rss = processPeakRssMb(server.child.pid!);
await server.stop();
watch.close();
const seconds = (finished - started) / 1000;
latencies.sort((a, b) => a - b);
report({
  bench: "campaign",
  contacts: CONTACTS,
  seconds: Number(seconds.toFixed(2)),
  per_s: Math.round(written / seconds),
  limit_per_s: Math.round(CONTACTS / rawSeconds),
  page_p95_ms: Math.round(latencies[Math.floor(latencies.length * 0.95)] ?? 0),
  page_requests: latencies.length,
  messages_written: written,
  server_peak_rss_mb: rss,
});
rmSync(root, { recursive: true, force: true });
process.exit(0);
