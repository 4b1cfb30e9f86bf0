/**
 * dsar: 1,000 workspaces × 1,000 contacts, every contact in the subject index (indexSubjects).
 * One person is a contact in 3 of them (with messages, a reply, consents, events). Steps, each
 * one JSON line with its seconds:
 *   find    workspacesHolding over the index (≤ 2 s);      limit: the same SELECT, raw
 *   export  approve the three export tasks: zips written by the worker (≤ 10 s);
 *           limit: collecting and zipping the same three bundles in this thread
 *   erase   approve the three erasure tasks (≤ 5 s);        limit: the same deletions as raw
 *           SQL on a twin person in three other workspaces
 *
 *   npm run bench -- dsar            (BENCH_WORKSPACES=200 for a quicker run)
 */
import Database from "better-sqlite3";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { report } from "./report";

const WORKSPACES = Number(process.env.BENCH_WORKSPACES ?? 1_000);
const CONTACTS = Number(process.env.BENCH_CONTACTS ?? 1_000);
const root = mkdtempSync(join(tmpdir(), "engage-bench-dsar-"));
process.env.DATA_DIR = join(root, "data");
process.env.LOG_LEVEL = "warn";
process.env.LOG_DESTINATION = "stderr";
process.env.BASE_URL = "https://engage.bench";

const { getControlDb } = await import("~/db/control.server");
const { newWorkspaceId, provisionTenantDb, tenantDbPath, closeAllTenantDbs } =
  await import("~/db/tenants.server");
const { indexSubjects, subjectHashes, workspacesHolding } =
  await import("~/domain/privacy/subject-index.server");
const { approveTask } = await import("~/domain/privacy/dsar-queues.server");
const { openWorkspaceContext } = await import("~/domain/workspaces/access.server");
const { collectContactBundle, writeBundleZip } =
  await import("~/domain/privacy/dsar-bundle.server");
const { suppressionKey } = await import("~/domain/contacts/suppression-hash.server");
const { suppressionHash } = await import("~/domain/contacts/suppression-hash-value.server");
const { createDsarRequest } = await import("../../tests/support/dsar");

const NOW = Date.now();
const SUBJECT = { email: "asha.subject@example.com", phone: "+919812300001" };
const TWIN = { email: "twin.subject@example.com", phone: "+919812300002" };
const HOLDERS = [17, Math.floor(WORKSPACES / 2), WORKSPACES - 1];
const TWIN_HOLDERS = [18, Math.floor(WORKSPACES / 2) + 1, WORKSPACES - 2];

function elapsed(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e9;
}

// ---------------------------------------------------------------------------------------------
// Seed: one migrated template file copied per workspace, then raw inserts into each.

const seedStarted = process.hrtime.bigint();
const control = getControlDb();
const ids: string[] = [];
const addWorkspace = control.$client.prepare(
  "INSERT INTO workspaces (id, slug, name, created_at) VALUES (?, ?, ?, ?)",
);
control.$client.transaction(() => {
  for (let w = 0; w < WORKSPACES; w++) {
    const id = newWorkspaceId();
    ids.push(id);
    addWorkspace.run(id, `bench-${w}`, `Bench shop ${w}`, NOW);
  }
})();
const template = ids[0]!;
provisionTenantDb(template);
closeAllTenantDbs();

function seedPerson(client: Database.Database, person: typeof SUBJECT, w: number): void {
  const contact = Number(
    client
      .prepare(
        "INSERT INTO contacts (email, phone, name, name_key, country, attributes, created_at, updated_at) VALUES (?, ?, ?, ?, 'IN', '{}', ?, ?)",
      )
      .run(person.email, person.phone, "Asha Subject", "asha subject", NOW, NOW).lastInsertRowid,
  );
  client
    .prepare(
      "INSERT INTO consents (contact_id, channel, status, source, at) VALUES (?, 'email', 'granted', 'website form', ?)",
    )
    .run(contact, NOW);
  const message = client.prepare(
    `INSERT INTO messages (id, contact_id, channel, kind, recipient, status, next_attempt_at, created_at, updated_at, sent_at)
     VALUES (?, ?, ?, 'marketing', ?, 'delivered', ?, ?, ?, ?)`,
  );
  const content = client.prepare(
    "INSERT INTO message_contents (message_id, content) VALUES (?, ?)",
  );
  for (let i = 0; i < 20; i++) {
    const email = i % 2 === 0;
    const id = `msg_${w}_${contact}_${i}`;
    message.run(
      id,
      contact,
      email ? "email" : "sms",
      email ? person.email : person.phone,
      NOW,
      NOW - i * 3_600_000,
      NOW,
      NOW - i * 3_600_000,
    );
    content.run(
      id,
      JSON.stringify(
        email
          ? {
              channel: "email",
              subject: `Offer ${i}`,
              html: `<p>Offer ${i}</p>`,
              text: `Offer ${i}`,
            }
          : { channel: "sms", text: `Offer ${i}` },
      ),
    );
  }
  client
    .prepare(
      "INSERT INTO inbound_messages (contact_id, channel, sender, text, provider_message_id, at) VALUES (?, 'sms', ?, 'STOP please', ?, ?)",
    )
    .run(contact, person.phone, `in_${w}_${contact}`, NOW);
  const event = client.prepare(
    "INSERT INTO contact_events (contact_id, at, type, channel, data) VALUES (?, ?, 'message.delivered', 'email', '{}')",
  );
  for (let i = 0; i < 20; i++) event.run(contact, NOW - i * 3_600_000);
}

const templatePath = tenantDbPath(template);
const seedMs = { files: 0, index: 0 };
for (let w = 0; w < WORKSPACES; w++) {
  const id = ids[w]!;
  const fileStarted = performance.now();
  if (w > 0) copyFileSync(templatePath, tenantDbPath(id));
  const client = new Database(tenantDbPath(id));
  client.pragma("journal_mode = WAL");
  const hashes: string[] = [];
  client.transaction(() => {
    client.prepare("UPDATE tenant_meta SET value = ? WHERE key = 'workspace_id'").run(id);
    const contact = client.prepare(
      `INSERT INTO contacts (email, phone, name, name_key, country, attributes, created_at, updated_at)
       VALUES (?, ?, ?, ?, 'IN', '{"city":"Pune"}', ?, ?)`,
    );
    for (let c = 0; c < CONTACTS; c++) {
      const email = `person${c}.w${w}@example.com`;
      const phone = `+9198${String(w).padStart(4, "0")}${String(c).padStart(4, "0")}`;
      contact.run(email, phone, `Person ${c}`, `person ${c}`, NOW, NOW);
      hashes.push(...subjectHashes({ email, phone }));
    }
    if (HOLDERS.includes(w)) seedPerson(client, SUBJECT, w);
    if (TWIN_HOLDERS.includes(w)) seedPerson(client, TWIN, w);
  })();
  client.close();
  seedMs.files += performance.now() - fileStarted;
  const indexStarted = performance.now();
  if (HOLDERS.includes(w)) hashes.push(...subjectHashes(SUBJECT));
  if (TWIN_HOLDERS.includes(w)) hashes.push(...subjectHashes(TWIN));
  indexSubjects(id, hashes);
  seedMs.index += performance.now() - indexStarted;
}
const seedSeconds = elapsed(seedStarted);
console.error(
  `seeded ${WORKSPACES} workspaces × ${CONTACTS} contacts, ${(
    control.$client.prepare("SELECT count(*) AS n FROM subject_index").get() as { n: number }
  ).n.toLocaleString(
    "en-US",
  )} index entries in ${seedSeconds.toFixed(1)} s (files ${(seedMs.files / 1000).toFixed(1)} s, indexSubjects ${(seedMs.index / 1000).toFixed(1)} s)`,
);

// ---------------------------------------------------------------------------------------------
// find

const hashes = subjectHashes(SUBJECT);
// The first find is what a request pays (statement preparation included); the rate is over
// warm repeats of both, so the ratio compares like with like.
const ROUNDS = 50;
let started = process.hrtime.bigint();
const found = workspacesHolding(hashes);
const findSeconds = elapsed(started);
if (found.length !== 3) throw new Error(`found ${found.length} workspaces, expected 3`);
started = process.hrtime.bigint();
for (let i = 0; i < ROUNDS; i++) workspacesHolding(hashes);
const warmFindSeconds = elapsed(started) / ROUNDS;
const raw = control.$client.prepare(
  "SELECT DISTINCT workspace_id FROM subject_index WHERE hash IN (?, ?)",
);
started = process.hrtime.bigint();
for (let i = 0; i < ROUNDS; i++) raw.all(...hashes);
const rawFindSeconds = elapsed(started) / ROUNDS;
report({
  bench: "dsar",
  step: "find",
  workspaces: WORKSPACES,
  index_entries: WORKSPACES * CONTACTS * 2,
  seconds: Number(findSeconds.toFixed(4)),
  max_seconds: 2,
  per_s: Math.round(1 / warmFindSeconds),
  limit_per_s: Math.round(1 / rawFindSeconds),
});

// ---------------------------------------------------------------------------------------------
// export: the three workspace tasks, approved as their owners would

const workspaceCtx = (id: string) =>
  openWorkspaceContext(id, { type: "user", id: "usr_bench" }, {}, () => new Date());

const exportTasks = createDsarRequest({
  type: "export",
  email: SUBJECT.email,
  phone: SUBJECT.phone,
  tasks: found.map((workspaceId) => ({ workspaceId })),
}).taskIds;
started = process.hrtime.bigint();
await Promise.all(exportTasks.map((taskId, i) => approveTask(workspaceCtx(found[i]!), taskId)));
const exportSeconds = elapsed(started);
const rows = control.$client
  .prepare(
    `SELECT status, counts FROM dsar_tasks WHERE id IN (${exportTasks.map(() => "?").join(",")})`,
  )
  .all(...exportTasks) as { status: string; counts: string }[];
if (rows.some((r) => r.status !== "completed")) throw new Error("an export did not complete");
started = process.hrtime.bigint();
for (const workspaceId of found) {
  const db = workspaceCtx(workspaceId).db;
  const bundle = collectContactBundle(db.$client, SUBJECT, suppressionKey(db), new Date());
  writeBundleZip(join(root, `limit-${workspaceId}.zip`), bundle);
}
const rawExportSeconds = elapsed(started);
report({
  bench: "dsar",
  step: "export",
  zips: 3,
  rows: rows.reduce((sum, r) => sum + (JSON.parse(r.counts) as { rows: number }).rows, 0),
  seconds: Number(exportSeconds.toFixed(3)),
  max_seconds: 10,
  per_s: Number((3 / exportSeconds).toFixed(2)),
  limit_per_s: Number((3 / rawExportSeconds).toFixed(2)),
});

// ---------------------------------------------------------------------------------------------
// erase

const eraseTasks = createDsarRequest({
  type: "erasure",
  email: SUBJECT.email,
  phone: SUBJECT.phone,
  tasks: found.map((workspaceId) => ({ workspaceId })),
}).taskIds;
started = process.hrtime.bigint();
for (const [i, taskId] of eraseTasks.entries()) {
  await approveTask(workspaceCtx(found[i]!), taskId);
}
const eraseSeconds = elapsed(started);
if (workspacesHolding(hashes).length !== 0) throw new Error("the subject is still indexed");

// The limit: the same work as plain SQL on the twin, in its three workspaces.
const twinHashes = subjectHashes(TWIN);
const twinHolders = workspacesHolding(twinHashes);
started = process.hrtime.bigint();
for (const workspaceId of twinHolders) {
  const db = workspaceCtx(workspaceId).db;
  const key = suppressionKey(db);
  const client = db.$client;
  client.transaction(() => {
    const contact = client
      .prepare("SELECT id FROM contacts WHERE email = ? OR phone = ?")
      .get(TWIN.email, TWIN.phone) as { id: number };
    const mine = "SELECT id FROM messages WHERE contact_id = ? OR recipient IN (?, ?)";
    client
      .prepare(`DELETE FROM message_contents WHERE message_id IN (${mine})`)
      .run(contact.id, TWIN.email, TWIN.phone);
    client
      .prepare(`UPDATE messages SET recipient = '' WHERE id IN (${mine})`)
      .run(contact.id, TWIN.email, TWIN.phone);
    client
      .prepare("DELETE FROM inbound_messages WHERE sender IN (?, ?)")
      .run(TWIN.email, TWIN.phone);
    client.prepare("DELETE FROM contacts WHERE id = ?").run(contact.id);
    const suppress = client.prepare(
      "INSERT OR IGNORE INTO suppressions (hash, kind, channel, reason, created_at) VALUES (?, ?, 'all', 'erasure', ?)",
    );
    suppress.run(suppressionHash(key, "email", TWIN.email), "email", NOW);
    suppress.run(suppressionHash(key, "phone", TWIN.phone), "phone", NOW);
  })();
  control.$client
    .prepare("DELETE FROM subject_index WHERE workspace_id = ? AND hash IN (?, ?)")
    .run(workspaceId, ...twinHashes);
}
const rawEraseSeconds = elapsed(started);
report({
  bench: "dsar",
  step: "erase",
  workspaces: 3,
  seconds: Number(eraseSeconds.toFixed(3)),
  max_seconds: 5,
  per_s: Number((3 / eraseSeconds).toFixed(2)),
  limit_per_s: Number((3 / rawEraseSeconds).toFixed(2)),
});

closeAllTenantDbs();
rmSync(root, { recursive: true, force: true });
