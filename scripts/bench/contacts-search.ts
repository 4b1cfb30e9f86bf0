/**
 * contacts-search: 1,000,000 contacts (seeded with raw SQL into a temp workspace), then 200
 * prefix searches by name, email and phone through listContacts, as the contacts page runs
 * them. The limit is the same SQL (the statements listContacts builds, with the same
 * parameters) on a raw better-sqlite3 connection in the same run. Target: p95 < 50 ms.
 */
import Database from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { report } from "./report";

const CONTACTS = Number(process.env.BENCH_CONTACTS ?? 1_000_000);
const SEARCHES = Number(process.env.BENCH_SEARCHES ?? 200);
const root = mkdtempSync(join(tmpdir(), "engage-bench-contacts-search-"));
process.env.DATA_DIR = join(root, "data");
process.env.LOG_LEVEL = "warn";
process.env.LOG_DESTINATION = "stderr";

const { newWorkspaceId, provisionTenantDb, tenantDbPath, closeAllTenantDbs } =
  await import("~/db/tenants.server");
const { listContacts, searchSources, buildContactQueries } =
  await import("~/domain/contacts/search.server");

const FIRST = [
  "Aarav",
  "Aditi",
  "Arjun",
  "Ananya",
  "Deepak",
  "Divya",
  "Farhan",
  "Gita",
  "Harish",
  "Isha",
  "Kavya",
  "Kiran",
  "Lakshmi",
  "Manoj",
  "Meera",
  "Nikhil",
  "Neha",
  "Pooja",
  "Priya",
  "Rahul",
  "Ravi",
  "Rohan",
  "Sanjay",
  "Sneha",
  "Suresh",
  "Tanvi",
  "Vikram",
  "Zara",
  "Emma",
  "Liam",
  "Olivia",
  "Noah",
  "Sofia",
  "Lucas",
  "Chloé",
  "José",
  "Müller",
  "Zoë",
  "राम",
  "सीता",
];
const LAST = [
  "Sharma",
  "Verma",
  "Iyer",
  "Nair",
  "Reddy",
  "Patel",
  "Shah",
  "Khan",
  "Gupta",
  "Singh",
  "Das",
  "Menon",
  "Rao",
  "Joshi",
  "Kulkarni",
  "Smith",
  "Jones",
  "Garcia",
  "Silva",
  "Kumar",
];
const DOMAINS = ["gmail.com", "yahoo.co.in", "example.com", "outlook.com", "rediffmail.com"];

// A small fast PRNG so runs are comparable.
let seed = 42;
function random(): number {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  return seed / 2 ** 32;
}
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

const workspaceId = newWorkspaceId();
const db = provisionTenantDb(workspaceId);
const seedStarted = process.hrtime.bigint();
{
  const client = db.$client;
  const insert = client.prepare(
    `INSERT INTO contacts (email, phone, name, name_key, country, attributes, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, '{}', ?, ?)`,
  );
  const now = Date.now();
  const batch = client.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const first = pick(FIRST);
      const last = pick(LAST);
      const name = `${first} ${last}`;
      const international = i % 10 === 0;
      const phone = international
        ? `+1415${String(1_000_000 + i).slice(-7)}`
        : `+91${9_000_000_000 + ((i * 7919) % 999_999_999)}`;
      const email = `${first.toLowerCase()}.${last.toLowerCase()}${i}@${pick(DOMAINS)}`;
      insert.run(
        email,
        phone,
        name,
        name.normalize("NFKC").toLowerCase(),
        international ? "US" : "IN",
        now - i * 1000,
        now - i * 1000,
      );
    }
  });
  for (let from = 0; from < CONTACTS; from += 50_000) {
    batch(from, Math.min(from + 50_000, CONTACTS));
  }
}
const seedSeconds = Number(process.hrtime.bigint() - seedStarted) / 1e9;

// The searches: name prefixes of 2–5 characters, email prefixes, phone prefixes in the ways
// people type them (local digits, +country, 00country).
const queries: string[] = [];
for (let i = 0; i < SEARCHES; i++) {
  const kind = i % 4;
  if (kind === 0) queries.push(pick(FIRST).slice(0, 2 + (i % 4)));
  else if (kind === 1) queries.push(`${pick(FIRST)} ${pick(LAST).slice(0, 2)}`);
  else if (kind === 2) {
    queries.push(`${pick(FIRST).toLowerCase()}.${pick(LAST).toLowerCase()}${i % 97}@`);
  } else {
    const digits = String(9_000_000_000 + Math.floor(random() * 999_999_999)).slice(0, 4 + (i % 4));
    queries.push([digits, `+91 ${digits}`, `0091${digits}`][i % 3]!);
  }
}

// The bench has a tenant file and no control row, so the profile is written out here.
const ctx = {
  workspaceId,
  workspace: {
    id: workspaceId,
    slug: "bench",
    timeZone: "Asia/Kolkata",
    country: "IN",
    currency: "INR" as const,
  },
  db,
  actor: { type: "system" as const, id: "bench" },
  now: () => new Date(),
};
const LIMIT = 50;

// Warm both paths once (page cache, statement preparation), as a running server would be.
for (const q of queries.slice(0, 20)) listContacts(ctx, { q, limit: LIMIT });

const times: number[] = [];
const byMode = new Map<string, number[]>();
let rowsSeen = 0;
const oursStarted = process.hrtime.bigint();
for (const q of queries) {
  const started = process.hrtime.bigint();
  const page = listContacts(ctx, { q, limit: LIMIT });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  times.push(ms);
  byMode.set(page.mode, [...(byMode.get(page.mode) ?? []), ms]);
  rowsSeen += page.rows.length;
}
const oursSeconds = Number(process.hrtime.bigint() - oursStarted) / 1e9;

const raw = new Database(tenantDbPath(workspaceId), { readonly: true });
const plans = queries.map((q) => {
  const { mode, sources } = searchSources(q, "IN");
  return buildContactQueries(
    mode,
    sources,
    {},
    { direction: "next", cursor: null, limit: LIMIT },
  ).map((query) => ({ statement: raw.prepare(query.sql), params: query.params }));
});
for (const plan of plans.slice(0, 20)) for (const p of plan) p.statement.all(...p.params);
const rawStarted = process.hrtime.bigint();
for (const plan of plans) for (const p of plan) p.statement.all(...p.params);
const rawSeconds = Number(process.hrtime.bigint() - rawStarted) / 1e9;
raw.close();

const countStarted = process.hrtime.bigint();
const total = (db.$client.prepare("SELECT count(*) AS n FROM contacts").get() as { n: number }).n;
const countMs = Number(process.hrtime.bigint() - countStarted) / 1e6;

function percentile95(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Number(
    sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.95) - 1)]!.toFixed(2),
  );
}
const p95 = percentile95(times);
const perMode = Object.fromEntries(
  [...byMode].map(([mode, values]) => [`p95_ms_${mode}`, percentile95(values)]),
);
report({
  bench: "contacts-search",
  contacts: total,
  searches: SEARCHES,
  seed_seconds: Number(seedSeconds.toFixed(1)),
  seconds: Number(oursSeconds.toFixed(3)),
  per_s: Math.round(SEARCHES / oursSeconds),
  limit_per_s: Math.round(SEARCHES / rawSeconds),
  p95_ms: p95,
  ...perMode,
  max_ms: Number(Math.max(...times).toFixed(2)),
  avg_rows: Math.round(rowsSeen / SEARCHES),
  count_ms: Number(countMs.toFixed(1)),
});

closeAllTenantDbs();
rmSync(root, { recursive: true, force: true });
