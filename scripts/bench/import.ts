/**
 * import: 1,000,000 realistic, messy CSV rows imported through the same path as the dashboard,
 * against a real server process: multipart upload to /w/<slug>/contacts/import, the mapping
 * form, then the server's two import worker threads; meanwhile a contacts page is requested
 * every 100 ms. The limit is a raw better-sqlite3 insert (same schema, same pragmas and
 * transaction size) of the very rows the import stored, in the same run.
 *
 *   npm run bench -- import               (BENCH_ROWS=200000 for a quicker run;
 *                                          BENCH_PAGE=/api-keys polls another workspace page)
 *
 * The file: Indian numbers in many spellings (98765 43210, +91 (987) 654-3210, 0091-…, 0…)
 * and international ones, mixed-case emails, Latin and Devanagari names, quoted names with
 * commas, 5 custom attributes (text, one-of, date, number, yes/no), ~2% rows repeating an
 * earlier person (other spelling of the email or phone), ~1% invalid values, some rows with
 * only an email or only a phone.
 *
 * peak_rss_mb is the server process's peak (VmHWM: main thread and import threads together),
 * so it includes what serving the polled page costs the web thread. Extra fields: the counts,
 * the raw insert time, the upload time, the polled page and the machine's load when it started.
 */
import Database from "better-sqlite3";
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from "node:fs";
import { request } from "node:http";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { finished } from "node:stream/promises";
import { processPeakRssMb } from "./report";

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const root = mkdtempSync(join(tmpdir(), "engage-bench-import-"));
const dataDir = join(root, "data");
process.env.DATA_DIR = dataDir;
process.env.LOG_LEVEL = "warn";
process.env.LOG_DESTINATION = "stderr";
process.env.NODE_ENV = "test";
delete process.env.BASE_URL;

const { createVerifiedUser, createWorkspaceFor, signedIn } =
  await import("../../tests/support/accounts");
const { startTestServer } = await import("../../tests/support/server");
const { openWorkspaceContext } = await import("~/domain/workspaces/access.server");
const { createAttributeDefinition } = await import("~/domain/contacts/attributes.server");
const { getImport } = await import("~/domain/contacts/import/imports.server");
const { DEFAULT_TUNING } = await import("~/domain/contacts/import/threads.server");
const { migrationsFor, configureConnection } = await import("~/db/migrate.server");
const { tenantDbPath, closeAllTenantDbs } = await import("~/db/tenants.server");

// ---------------------------------------------------------------------------------------------
// The file

let state = 20_260_615;
/** mulberry32: deterministic, so every run imports the same file. */
function random(): number {
  state = (state + 0x6d2b79f5) | 0;
  let t = Math.imul(state ^ (state >>> 15), 1 | state);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
const digits = (n: number) => {
  let s = "";
  for (let i = 0; i < n; i++) s += Math.floor(random() * 10);
  return s;
};

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
  "Ishaan",
  "Diya",
  "John",
  "Maria",
  "Wei",
  "Fatima",
  "Oluwaseun",
  "Hannah",
];
const LAST = [
  "Sharma",
  "Patel",
  "Iyer",
  "Khan",
  "Reddy",
  "Das",
  "Singh",
  "Nair",
  "Gupta",
  "Mehta",
  "Smith",
  "García",
  "Chen",
  "Okafor",
  "Müller",
];
const DEVANAGARI = ["अनन्या शर्मा", "राहुल वर्मा", "प्रिया सिंह", "अर्जुन मेहता", "कविता नायर", "सुनील गुप्ता"];
const DOMAINS = [
  "gmail.com",
  "yahoo.co.in",
  "outlook.com",
  "rediffmail.com",
  "hotmail.com",
  "example.in",
  "company.co.in",
];
const CITIES = [
  "Mumbai",
  "Delhi",
  "Bengaluru",
  "Chennai",
  "Kolkata",
  "Pune",
  "Hyderabad",
  "Jaipur",
  "Dubai",
  "London",
  "Singapore",
];
const PLANS = ["Free", "gold", "GOLD", "Platinum", "free"];
const VIP = ["yes", "no", "Yes", "No", "true", "false", "1", "0", ""];

function indianMobile(): string {
  return pick(["9", "8", "7", "6"]) + digits(9);
}

/** One number written the way people write them, and whether it is meant to be valid. */
function phone(): string {
  const r = random();
  if (r < 0.85) {
    const n = indianMobile();
    switch (Math.floor(random() * 8)) {
      case 0:
        return `${n.slice(0, 5)} ${n.slice(5)}`;
      case 1:
        return `+91 ${n.slice(0, 5)} ${n.slice(5)}`;
      case 2:
        return `0091-${n.slice(0, 5)}-${n.slice(5)}`;
      case 3:
        return `+91 (${n.slice(0, 3)}) ${n.slice(3, 6)}-${n.slice(6)}`;
      case 4:
        return `0${n}`;
      case 5:
        return `91${n}`;
      case 6:
        return `+91-${n}`;
      default:
        return n;
    }
  }
  switch (Math.floor(random() * 5)) {
    case 0:
      return `+1 (${pick(["212", "415", "646", "312"])}) ${pick(["2", "3", "5", "7"])}${digits(2)}-${digits(4)}`;
    case 1:
      return `+44 7${pick(["4", "5", "7", "8", "9"])}${digits(2)} ${digits(6)}`;
    case 2:
      return `+971 5${pick(["0", "2", "5", "6"])} ${digits(3)} ${digits(4)}`;
    case 3:
      return `+65 ${pick(["8", "9"])}${digits(3)} ${digits(4)}`;
    default:
      return `+49 1${pick(["51", "60", "70", "76"])} ${digits(7)}`;
  }
}

function csvQuote(value: string): string {
  return /[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

interface Person {
  name: string;
  email: string;
  phone: string;
}

async function writeFile(path: string): Promise<void> {
  const out = createWriteStream(path);
  out.write("Full Name,E-mail,Mobile No.,City,Plan,Signup Date,Score,VIP\n");
  const earlier: Person[] = [];
  let chunk = "";
  for (let i = 0; i < ROWS; i++) {
    let person: Person;
    const r = random();
    if (r < 0.02 && earlier.length > 0) {
      // The same person again: the email in other case, or the number spelled differently.
      const seen = pick(earlier);
      person = {
        name: seen.name,
        email: random() < 0.5 ? seen.email.toUpperCase() : seen.email,
        phone: seen.phone ? seen.phone.replace(/[\s()-]/g, "") : "",
      };
    } else {
      const devanagari = random() < 0.1;
      const first = pick(FIRST);
      const last = pick(LAST);
      const name = devanagari
        ? pick(DEVANAGARI)
        : random() < 0.05
          ? `${last}, ${first}`
          : random() < 0.1
            ? `  ${first.toUpperCase()}   ${last} `
            : `${first} ${last}`;
      const local = `${first}.${last}`
        .normalize("NFKD")
        .replace(/[^\w.]/g, "")
        .toLowerCase();
      const email = `${random() < 0.3 ? local.replace(/^./, (c) => c.toUpperCase()) : local}${i}@${pick(DOMAINS)}`;
      const which = random();
      person = {
        name,
        email: which < 0.08 ? "" : random() < 0.2 ? email.toUpperCase() : email,
        phone: which > 0.92 ? "" : phone(),
      };
      if (earlier.length < 50_000 && random() < 0.1) earlier.push(person);
    }
    let city = pick(CITIES);
    let score = String(Math.floor(random() * 1000) / 10);
    let date = `20${pick(["22", "23", "24", "25"])}-${String(1 + Math.floor(random() * 12)).padStart(2, "0")}-${String(1 + Math.floor(random() * 28)).padStart(2, "0")}`;
    // About 1% invalid values, spread over the columns.
    const bad = random();
    if (bad < 0.0025) person.phone = pick(["12345", "98765", "call me", "000"]);
    else if (bad < 0.005) person.email = pick(["name@", "name.example.com", "a@b", "@gmail.com"]);
    else if (bad < 0.0075) date = pick(["31/02/2024", "2024-13-01", "yesterday"]);
    else if (bad < 0.01) score = pick(["n/a", "ten", "5%"]);
    if (random() < 0.001) city = `${city}\nNear the station`;
    chunk += `${csvQuote(person.name)},${person.email},${person.phone},${csvQuote(city)},${pick(PLANS)},${date},${score},${pick(VIP)}\n`;
    if (chunk.length > 1 << 16) {
      if (!out.write(chunk)) await new Promise<void>((r) => out.once("drain", () => r()));
      chunk = "";
    }
  }
  out.end(chunk);
  await finished(out);
}

// ---------------------------------------------------------------------------------------------
// Setup: a workspace, a real server, a signed-in owner

const csvPath = join(root, "contacts.csv");
const generated = Date.now();
await writeFile(csvPath);
const fileBytes = statSync(csvPath).size;
console.error(
  `bench import: ${ROWS} rows, ${(fileBytes / 1e6).toFixed(1)} MB generated in ${((Date.now() - generated) / 1000).toFixed(1)} s`,
);

const owner = await createVerifiedUser({ name: "Bench Owner" });
const workspace = createWorkspaceFor(owner, { country: "IN" });
const ctx = openWorkspaceContext(workspace.id, { type: "user", id: owner.id }, {});
createAttributeDefinition(ctx, { key: "city", label: "City", type: "text" });
createAttributeDefinition(ctx, {
  key: "plan",
  label: "Plan",
  type: "choice",
  options: ["Free", "Gold", "Platinum"],
});
createAttributeDefinition(ctx, { key: "signup_date", label: "Signup date", type: "date" });
createAttributeDefinition(ctx, { key: "score", label: "Score", type: "number" });
createAttributeDefinition(ctx, { key: "vip", label: "VIP", type: "boolean" });

const limitBytes = String(Math.max(fileBytes * 2, 200 * 1024 * 1024));
const server = await startTestServer({
  dataDir,
  // The upload goes through the app's own limit (IMPORT_MAX_BYTES); the host's generic body
  // limit is raised to match it here.
  env: { IMPORT_MAX_BYTES: limitBytes, BODY_LIMIT_BYTES: limitBytes },
});
const browser = await signedIn(server, owner);
const base = `/w/${workspace.slug}`;
const probe = await browser.get(`${base}/contacts`);
await probe.arrayBuffer();
const contactsPage = process.env.BENCH_PAGE
  ? `${base}${process.env.BENCH_PAGE}`
  : probe.status === 200
    ? `${base}/contacts`
    : base;

/** Streams the file as a multipart form post, with a Content-Length, as a browser does. */
function upload(): Promise<{ status: number; location: string }> {
  const boundary = "----engagebench7d1f0c";
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="contacts.csv"\r\nContent-Type: text/csv\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const url = new URL(`${server.url}${base}/contacts/import`);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: "POST",
        headers: {
          cookie: browser.cookie,
          origin: server.url,
          "content-type": `multipart/form-data; boundary=${boundary}`,
          "content-length": String(head.length + fileBytes + tail.length),
        },
      },
      (res) => {
        res.resume();
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, location: String(res.headers.location ?? "") }),
        );
      },
    );
    req.on("error", reject);
    req.write(head);
    const file = createReadStream(csvPath);
    file.pipe(req, { end: false });
    file.on("end", () => req.end(tail));
    file.on("error", reject);
  });
}

// ---------------------------------------------------------------------------------------------
// The run

const load1 = Number(loadavg()[0]!.toFixed(2));
const uploadStarted = Date.now();
const uploaded = await upload();
const uploadSeconds = (Date.now() - uploadStarted) / 1000;
const importId = /\/contacts\/import\/(imp_[0-9a-f]{20})$/.exec(uploaded.location)?.[1];
if (uploaded.status !== 302 || !importId) {
  throw new Error(`upload failed: ${uploaded.status} ${uploaded.location}`);
}

const latencies: number[] = [];
let inFlight = 0;
const pages = setInterval(() => {
  inFlight++;
  const started = performance.now();
  void browser
    .get(contactsPage)
    .then(async (res) => {
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${contactsPage} answered ${res.status}`);
      latencies.push(performance.now() - started);
    })
    .catch((error: unknown) => console.error(`page request failed: ${String(error)}`))
    .finally(() => inFlight--);
}, 100);

const start = await browser.post(`${base}/contacts/import/${importId}`, {
  intent: "start",
  "column.0": "name",
  "column.1": "email",
  "column.2": "phone",
  "column.3": "attribute:city",
  "column.4": "attribute:plan",
  "column.5": "attribute:signup_date",
  "column.6": "attribute:score",
  "column.7": "attribute:vip",
  onExisting: "update",
});
const startBody = await start.text();
if (start.status !== 302) throw new Error(`start failed: ${start.status} ${startBody}`);

let summary = getImport(ctx, importId);
while (!["completed", "failed", "cancelled"].includes(summary.status)) {
  await new Promise((r) => setTimeout(r, 200));
  summary = getImport(ctx, importId);
}
clearInterval(pages);
while (inFlight > 0) await new Promise((r) => setTimeout(r, 20));
const peak = processPeakRssMb(server.child.pid!);
await server.stop();
closeAllTenantDbs();
if (summary.status !== "completed") throw new Error(`import ${summary.status}: ${summary.error}`);

const seconds = (summary.finishedAt!.getTime() - summary.startedAt!.getTime()) / 1000;
const rows = summary.counts.rowsDone;

// ---------------------------------------------------------------------------------------------
// The limit: the same stored rows, raw inserts into a fresh file with the same schema

const source = new Database(tenantDbPath(workspace.id), { readonly: true });
const rawPath = join(root, "raw.db");
const raw = new Database(rawPath);
configureConnection(raw);
for (const m of migrationsFor("tenant")) for (const sql of m.sql) if (sql.trim()) raw.exec(sql);
raw.pragma(`cache_size = -${DEFAULT_TUNING.cacheKib}`);
const insert = raw.prepare(
  `INSERT INTO contacts (email, phone, name, name_key, country, attributes, created_at, updated_at)
   VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
);
const page = source
  .prepare(
    `SELECT id, email, phone, name, name_key, country, attributes, created_at, updated_at
     FROM contacts WHERE id > ? ORDER BY id LIMIT ?`,
  )
  .raw();
let after = 0;
let inserted = 0;
let insertNs = 0n;
for (;;) {
  const batch = page.all(after, DEFAULT_TUNING.txnRows) as unknown[][];
  if (batch.length === 0) break;
  after = batch[batch.length - 1]![0] as number;
  const t0 = process.hrtime.bigint();
  raw.transaction(() => {
    for (const r of batch) insert.run(r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8]);
  })();
  insertNs += process.hrtime.bigint() - t0;
  inserted += batch.length;
}
source.close();
raw.close();
const rawSeconds = Number(insertNs) / 1e9;
const limitPerS = Math.round(inserted / rawSeconds);

latencies.sort((a, b) => a - b);
const p95 = latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.95))] ?? 0;
const perS = Math.round(rows / seconds);
console.log(
  JSON.stringify({
    bench: "import",
    rows,
    seconds: Number(seconds.toFixed(2)),
    per_s: perS,
    limit_per_s: limitPerS,
    ratio: Number((perS / limitPerS).toFixed(2)),
    peak_rss_mb: peak,
    page_p95_ms: Math.round(p95),
    imported: summary.counts.imported,
    updated: summary.counts.updated,
    skipped: summary.counts.skipped,
    errors: summary.counts.errors,
    raw_insert_seconds: Number(rawSeconds.toFixed(2)),
    upload_seconds: Number(uploadSeconds.toFixed(2)),
    page: contactsPage.replace(workspace.slug, "<slug>"),
    page_requests: latencies.length,
    load1,
  }),
);
rmSync(root, { recursive: true, force: true });
