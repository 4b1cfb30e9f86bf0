/**
 * segment: count two-condition segments over 1,000,000 contacts through countSegment (parse,
 * check against the workspace, compile, run), in a temp workspace seeded with realistic
 * attribute JSON, tags and consents. The limit is a hand-written SQL count of the same thing
 * on a raw better-sqlite3 connection to the same file, in the same run. Each count must take
 * at most 1 s.
 *
 *   npm run bench -- segment            (BENCH_CONTACTS=200000 for a quicker run)
 */
import Database from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { report } from "./report";

const CONTACTS = Number(process.env.BENCH_CONTACTS ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const root = mkdtempSync(join(tmpdir(), "engage-bench-segment-"));
process.env.DATA_DIR = join(root, "data");
process.env.LOG_LEVEL = "warn";
process.env.LOG_DESTINATION = "stderr";

const { newWorkspaceId, provisionTenantDb, tenantDbPath, closeAllTenantDbs } =
  await import("~/db/tenants.server");
const { countSegment } = await import("~/domain/segments/segments.server");

const DAY = 86_400_000;
const NOW = Date.now();
const CITIES = [
  ["Mumbai", 14],
  ["Delhi", 12],
  ["Bengaluru", 10],
  ["Chennai", 7],
  ["Kolkata", 6],
  ["Pune", 6],
  ["Hyderabad", 6],
  ["Ahmedabad", 4],
  ["Jaipur", 3],
  ["Lucknow", 3],
  ["Navi Mumbai", 2],
  ["Dubai", 3],
  ["London", 3],
  ["Singapore", 2],
  ["Nairobi", 1],
  ["New York", 2],
] as const;
const CITY_TABLE = CITIES.flatMap(([city, weight]) => Array<string>(weight).fill(city));
const PLANS = ["Free", "Basic", "Pro", "Enterprise"];
const FIRST = [
  "Aarav",
  "Priya",
  "Rohan",
  "Ananya",
  "Vikram",
  "Sneha",
  "Arjun",
  "Kavya",
  "Rahul",
  "Meera",
];
const LAST = ["Sharma", "Patel", "Iyer", "Khan", "Reddy", "Das", "Singh", "Nair", "Gupta", "Mehta"];

/** Deterministic pseudo-random numbers, so every run seeds the same data. */
let state = 20_260_601;
function random(): number {
  state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
  return state / 4_294_967_296;
}
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;

const workspaceId = newWorkspaceId();
const db = provisionTenantDb(workspaceId);
const client = db.$client;

// ---------------------------------------------------------------------------------------------
// Seed: the raw fast path (one transaction, prepared statements)

const seedStarted = process.hrtime.bigint();
const TAGS = ["Diwali 2025", "VIP", "Newsletter", "Churn risk", "Webinar", "Black Friday", "Beta"];
client.transaction(() => {
  const now = new Date(NOW).getTime();
  client
    .prepare(
      "INSERT INTO attribute_definitions (key, label, type, options, created_at) VALUES (?, ?, ?, ?, ?)",
    )
    .run("city", "City", "text", null, now);
  const define = client.prepare(
    "INSERT INTO attribute_definitions (key, label, type, options, created_at) VALUES (?, ?, ?, ?, ?)",
  );
  define.run("plan", "Plan", "choice", JSON.stringify(PLANS), now);
  define.run("lifetime_value", "Lifetime value", "number", null, now);
  define.run("last_order", "Last order", "date", null, now);
  define.run("vip", "VIP", "boolean", null, now);
  const tag = client.prepare("INSERT INTO tags (id, name, created_at) VALUES (?, ?, ?)");
  TAGS.forEach((name, i) => tag.run(i + 1, name, now));

  const contact = client.prepare(
    `INSERT INTO contacts (id, email, phone, name, name_key, country, attributes, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const consent = client.prepare(
    "INSERT INTO consents (contact_id, channel, status, source, at) VALUES (?, ?, ?, ?, ?)",
  );
  const tagged = client.prepare(
    "INSERT OR IGNORE INTO contact_tags (contact_id, tag_id) VALUES (?, ?)",
  );
  for (let id = 1; id <= CONTACTS; id++) {
    const name = `${pick(FIRST)} ${pick(LAST)}`;
    const international = random() < 0.12;
    const phone =
      random() < 0.9
        ? international
          ? `+4477${String(id).padStart(8, "0")}`
          : `+919${String(id).padStart(9, "0")}`
        : null;
    const email =
      random() < 0.8 ? `${name.toLowerCase().replace(" ", ".")}.${id}@example.com` : null;
    const created = NOW - Math.floor(random() * 3 * 365 * DAY);
    const attributes: Record<string, string | number | boolean> = {
      city: international ? pick(["London", "Dubai", "Singapore", "New York"]) : pick(CITY_TABLE),
      plan: pick(PLANS),
      lifetime_value: Math.round(random() * 50_000) / 100,
    };
    if (random() < 0.6) {
      attributes.last_order = new Date(NOW - Math.floor(random() * 400 * DAY))
        .toISOString()
        .slice(0, 10);
    }
    if (random() < 0.1) attributes.vip = true;
    contact.run(
      id,
      email,
      phone,
      name,
      name.toLowerCase(),
      phone ? (international ? "GB" : "IN") : null,
      JSON.stringify(attributes),
      created,
      created,
    );
    const r = random();
    if (phone && r < 0.6)
      consent.run(id, "whatsapp", "granted", "signed up on website form", created);
    else if (phone && r < 0.7) consent.run(id, "whatsapp", "withdrawn", "replied STOP", created);
    if (email && random() < 0.55) consent.run(id, "email", "granted", "checkout opt-in", created);
    if (phone && random() < 0.2) consent.run(id, "sms", "granted", "store sign-up", created);
    if (random() < 0.35) tagged.run(id, 1 + Math.floor(random() * TAGS.length));
    if (random() < 0.15) tagged.run(id, 1 + Math.floor(random() * TAGS.length));
  }
})();
client.pragma("wal_checkpoint(TRUNCATE)");
const seedSeconds = Number(process.hrtime.bigint() - seedStarted) / 1e9;
console.error(`seeded ${CONTACTS} contacts in ${seedSeconds.toFixed(1)} s`);

// ---------------------------------------------------------------------------------------------
// Scenarios

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
  now: () => new Date(NOW),
  timeZone: "Asia/Kolkata",
};
const raw = new Database(tenantDbPath(workspaceId), { readonly: true });
raw.pragma("journal_mode = WAL");

interface Scenario {
  name: string;
  definition: unknown;
  sql: string;
  params: (string | number)[];
}

const scenarios: Scenario[] = [
  {
    name: "consent-and-attribute",
    definition: {
      op: "and",
      conditions: [
        { type: "consent", channel: "whatsapp", op: "granted" },
        { type: "attribute", key: "city", op: "equals", value: "Mumbai" },
      ],
    },
    sql: `SELECT count(*) FROM consents s JOIN contacts c ON c.id = s.contact_id
           WHERE s.channel = 'whatsapp' AND s.status = 'granted'
             AND json_extract(c.attributes, '$.city') = 'Mumbai'`,
    params: [],
  },
  {
    name: "tag-and-created-recently",
    definition: {
      op: "and",
      conditions: [
        { type: "tag", op: "has", tagId: 1 },
        { type: "created", op: "within_days", days: 30 },
      ],
    },
    sql: `SELECT count(*) FROM contact_tags t JOIN contacts c ON c.id = t.contact_id
           WHERE t.tag_id = 1 AND c.created_at >= ?`,
    params: [NOW - 30 * DAY],
  },
];

function time(fn: () => number): { count: number; ms: number[] } {
  let count = fn(); // warm the page cache and the statement
  const ms: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const started = process.hrtime.bigint();
    count = fn();
    ms.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return { count, ms };
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

let failed = false;
for (const scenario of scenarios) {
  const ours = time(() => countSegment(ctx, scenario.definition));
  const limit = time(
    () =>
      raw
        .prepare(scenario.sql)
        .pluck()
        .get(...scenario.params) as number,
  );
  if (ours.count !== limit.count) {
    console.error(`${scenario.name}: countSegment gave ${ours.count}, raw SQL ${limit.count}`);
    failed = true;
  }
  const oursMs = median(ours.ms);
  const limitMs = median(limit.ms);
  const worst = Math.max(...ours.ms);
  if (worst > 1000) {
    console.error(`${scenario.name}: a count took ${worst.toFixed(0)} ms (must be ≤ 1000 ms)`);
    failed = true;
  }
  report({
    bench: "segment",
    scenario: scenario.name,
    contacts: CONTACTS,
    matched: ours.count,
    count_ms: Number(oursMs.toFixed(1)),
    max_count_ms: Number(worst.toFixed(1)),
    limit_count_ms: Number(limitMs.toFixed(1)),
    per_s: Number((1000 / oursMs).toFixed(2)),
    limit_per_s: Number((1000 / limitMs).toFixed(2)),
  });
}

raw.close();
closeAllTenantDbs();
rmSync(root, { recursive: true, force: true });
if (failed) process.exit(1);
