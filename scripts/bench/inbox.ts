/**
 * inbox: a workspace with 100,000 conversations and 2,000,000 messages (scripts/bench/inbox-seed.ts,
 * cached between runs), then three scenarios, one JSON line each:
 *
 *   sse   RATE inbound WhatsApp messages a second for SECONDS seconds, signed like Meta, POSTed
 *         to the real server's webhook route while an SSE client (the owner, signed in) listens
 *         on /w/<slug>/inbox/events. Latency is from the POST to its `message` event (p50/p99);
 *         `lost` counts messages whose event never came. Limit: the same rows inserted on a raw
 *         better-sqlite3 connection (inbound_messages with its FTS trigger), in batches.
 *         A freshly started server first gets WARMUP seconds of the same traffic (its JIT and
 *         page cache warm, as on a server that has run for a minute); that phase is reported
 *         apart (`warmup_p99_ms`), and the measured phase starts once it has drained.
 *   list  p95 of the inbox list queries (views × statuses × order, text search) on the seeded
 *         file. Limit: the same SQL on raw better-sqlite3.
 *   page  p95 of the conversation thread query, the same way.
 *
 * list and page measure the raw SQL (ours = raw) until the conversations domain's functions
 * exist: set `listConversations` / `conversationThread` in inbox-queries.ts's plug-in point.
 *
 *   npm run bench -- inbox [sse|list|page ...]
 *   BENCH_INBOX_CONVERSATIONS, BENCH_INBOX_MESSAGES, BENCH_INBOX_RATE, BENCH_INBOX_SECONDS,
 *   BENCH_INBOX_WARMUP_SECONDS
 */
import Database from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pool } from "undici";
import { inboundPayload, signWebhook } from "../../tests/fakes/whatsapp";
import { listScenarios, oursFor, percentile, threadScenarios } from "./inbox-queries";
import { phoneOf, seedInbox, statusOf } from "./inbox-seed";
import { processPeakRssMb, report } from "./report";

const CONVERSATIONS = Number(process.env.BENCH_INBOX_CONVERSATIONS ?? 100_000);
const MESSAGES = Number(process.env.BENCH_INBOX_MESSAGES ?? 2_000_000);
const RATE = Number(process.env.BENCH_INBOX_RATE ?? 1_000);
const SECONDS = Number(process.env.BENCH_INBOX_SECONDS ?? 10);
const WARMUP_SECONDS = Number(process.env.BENCH_INBOX_WARMUP_SECONDS ?? 3);
const wanted = process.argv.slice(3);
const runs = (name: string) => wanted.length === 0 || wanted.includes(name);

const root = mkdtempSync(join(tmpdir(), "engage-bench-inbox-"));
const dataDir = join(root, "data");
process.env.DATA_DIR = dataDir;
process.env.LOG_LEVEL = "warn";
process.env.LOG_DESTINATION = "stderr";

const seed = await seedInbox(dataDir, CONVERSATIONS, MESSAGES);
const { tenantDbPath } = await import("~/db/tenants.server");
const tenantFile = tenantDbPath(seed.workspaceId);
const seedLine = {
  conversations: seed.conversations,
  messages: seed.messages,
  seed_seconds: Number(seed.seedSeconds.toFixed(1)),
  seed_cached: seed.cached,
};

// ---------------------------------------------------------------------------------------------
// list / page: the queries on the seeded file.

async function queryScenario(name: "list" | "page") {
  const raw = new Database(tenantFile, { readonly: true });
  raw.pragma("journal_mode = WAL");
  const scenarios = name === "list" ? listScenarios(raw, seed) : threadScenarios(raw, seed);
  const ours = await oursFor(name, seed);
  const rawTimes: number[] = [];
  const ourTimes: number[] = [];
  const byKind = new Map<string, number[]>();
  for (const run of scenarios) {
    let t = performance.now();
    run.raw();
    rawTimes.push(performance.now() - t);
    t = performance.now();
    if (ours) await ours(run.input);
    else run.raw();
    const ms = performance.now() - t;
    ourTimes.push(ms);
    byKind.set(run.kind, [...(byKind.get(run.kind) ?? []), ms]);
  }
  // The slowest kinds of query, by their p95: where an index would help.
  const slowest = Object.fromEntries(
    [...byKind]
      .map(([kind, times]) => [kind, percentile(times, 0.95)] as const)
      .sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0))
      .slice(0, 5),
  );
  raw.close();
  const sum = (a: number[]) => a.reduce((x, y) => x + y, 0) / 1000;
  report({
    bench: `inbox-${name}`,
    ...seedLine,
    queries: scenarios.length,
    ours: ours ? "domain" : "raw SQL (domain function not plugged in yet)",
    per_s: Math.round(scenarios.length / sum(ourTimes)),
    limit_per_s: Math.round(scenarios.length / sum(rawTimes)),
    p95_ms: percentile(ourTimes, 0.95),
    limit_p95_ms: percentile(rawTimes, 0.95),
    max_ms: Number(Math.max(...ourTimes).toFixed(2)),
    slowest_p95_ms: slowest,
  });
}

// ---------------------------------------------------------------------------------------------
// sse: inbound webhooks through the real server to an open event stream.

/** The raw cost: the same inbound rows inserted on better-sqlite3, 100 per transaction. */
function rawInsertPerSecond(count: number): number {
  const file = join(root, "raw.db");
  rmSync(file, { force: true });
  const raw = new Database(file);
  raw.pragma("journal_mode = WAL");
  raw.pragma("synchronous = NORMAL");
  // Only the inbound table is copied here; its contact is not.
  raw.pragma("foreign_keys = OFF");
  const schema = new Database(tenantFile, { readonly: true });
  const ddl = schema
    .prepare(
      `SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND (tbl_name = 'inbound_messages'
         OR tbl_name LIKE 'inbound_messages_fts%') ORDER BY type = 'trigger', type = 'index'`,
    )
    .all() as { sql: string }[];
  schema.close();
  for (const { sql } of ddl) {
    if (!/^CREATE TABLE .inbound_messages_fts_/i.test(sql)) raw.exec(sql);
  }
  const insert = raw.prepare(
    `INSERT INTO inbound_messages (contact_id, channel, integration_id, sender, text,
       provider_message_id, at, conversation_id) VALUES (?, 'whatsapp', 'x', ?, ?, ?, ?, ?)`,
  );
  const batch = raw.transaction((from: number) => {
    for (let i = from; i < Math.min(from + 100, count); i++) {
      insert.run(i + 1, phoneOf(i), `bench message ${i}`, `wamid.raw.${i}`, Date.now(), i + 1);
    }
  });
  const started = performance.now();
  for (let from = 0; from < count; from += 100) batch(from);
  const seconds = (performance.now() - started) / 1000;
  raw.close();
  return Math.round(count / seconds);
}

interface Phase {
  bodies: ReturnType<typeof signWebhook>[];
  posted: Float64Array;
  arrived: Float64Array;
  events: number;
  non200: number;
}

async function sseScenario() {
  const { startTestServer } = await import("../../tests/support/server");
  const { signIn } = await import("../../tests/support/accounts");
  const total = RATE * SECONDS;
  const warmupTotal = RATE * WARMUP_SECONDS;
  // Each message comes from the contact of a different open conversation, so each event's
  // conversation id names exactly one message.
  const senders: number[] = [];
  for (let i = CONVERSATIONS - 1; i >= 0 && senders.length < total + warmupTotal; i--) {
    if (statusOf(i) === "open") senders.push(i);
  }
  if (senders.length < total + warmupTotal) {
    throw new Error(`only ${senders.length} open conversations`);
  }
  const owner = new Map<number, { phase: Phase; k: number }>();
  const phaseOf = (from: number, count: number, tag: string): Phase => {
    const phase: Phase = {
      bodies: [],
      posted: new Float64Array(count),
      arrived: new Float64Array(count).fill(NaN),
      events: 0,
      non200: 0,
    };
    for (let k = 0; k < count; k++) {
      const i = senders[from + k]!;
      phase.bodies.push(
        signWebhook(
          seed.appSecret,
          inboundPayload({
            phoneNumberId: seed.phoneNumberId,
            from: phoneOf(i),
            name: `Customer ${i}`,
            text: `bench live message ${tag} ${k}`,
            id: `wamid.bench.${tag}.${k}`,
          }),
        ),
      );
      owner.set(i + 1, { phase, k });
    }
    return phase;
  };
  const warmup = phaseOf(0, warmupTotal, "warmup");
  const measured = phaseOf(warmupTotal, total, "live");

  // An install's first start indexes its contacts for privacy requests, once; done here so the
  // measured run does not pay for the seeded 100,000 contacts.
  const { startPrivacyIndexUpkeep } = await import("~/jobs/privacy-reindex.server");
  await startPrivacyIndexUpkeep();
  const server = await startTestServer({
    dataDir,
    nodeArgs: process.env.BENCH_SERVER_NODE_ARGS?.split(" ").filter(Boolean),
  });
  const cookie = await signIn(server, seed.ownerEmail, seed.ownerPassword);
  const abort = new AbortController();
  const res = await server.fetch(`/w/${seed.slug}/inbox/events`, {
    headers: { cookie, accept: "text/event-stream" },
    signal: abort.signal,
  });
  if (res.status !== 200) throw new Error(`event stream answered ${res.status}`);
  let connected!: () => void;
  const ready = new Promise<void>((resolve) => (connected = resolve));
  void (async () => {
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buffered = "";
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const now = performance.now();
        buffered += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffered.indexOf("\n\n")) >= 0) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          if (block.includes(": connected")) connected();
          const data = /^event: message\ndata: (.*)$/m.exec(block)?.[1];
          if (!data) continue;
          const event = JSON.parse(data) as { conversationId: number; direction: string };
          const mine = owner.get(event.conversationId);
          if (event.direction !== "in" || !mine) continue;
          if (!Number.isNaN(mine.phase.arrived[mine.k]!)) continue;
          mine.phase.arrived[mine.k] = now;
          mine.phase.events += 1;
        }
      }
    } catch {
      // Aborted at the end.
    }
  })();
  await ready;

  const pool = new Pool(server.url, { connections: 64, pipelining: 1 });
  /** Posts a phase at RATE a second; resolves once every event came or 10 s after the last post. */
  async function run(phase: Phase): Promise<{ started: number; sentSeconds: number }> {
    const count = phase.posted.length;
    const inflight: Promise<void>[] = [];
    const started = performance.now();
    let next = 0;
    while (next < count) {
      const due = Math.min(count, Math.floor(((performance.now() - started) / 1000) * RATE) + 1);
      for (; next < due; next++) {
        const k = next;
        phase.posted[k] = performance.now();
        inflight.push(
          pool
            .request({
              method: "POST",
              path: `/webhooks/whatsapp/${seed.integrationId}`,
              headers: phase.bodies[k]!.headers,
              body: phase.bodies[k]!.body,
            })
            .then(async (r) => {
              await r.body.text();
              if (r.statusCode !== 200) phase.non200 += 1;
            }),
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await Promise.all(inflight);
    const sentSeconds = (performance.now() - started) / 1000;
    for (let waited = 0; waited < 10_000 && phase.events < count; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return { started, sentSeconds };
  }
  const latenciesOf = (phase: Phase) => {
    const list: number[] = [];
    for (let k = 0; k < phase.posted.length; k++) {
      if (!Number.isNaN(phase.arrived[k]!)) list.push(phase.arrived[k]! - phase.posted[k]!);
    }
    return list;
  };

  if (warmupTotal > 0) await run(warmup);
  const { started, sentSeconds } = await run(measured);
  const lastArrival = Math.max(
    ...Array.from(measured.arrived).filter((t) => !Number.isNaN(t)),
    started,
  );
  abort.abort();
  await pool.close();
  const rss = processPeakRssMb(server.child.pid!);
  await server.stop();

  const latencies = latenciesOf(measured);
  const warmupLatencies = latenciesOf(warmup);
  report({
    bench: "inbox-sse",
    ...seedLine,
    rate_per_s: RATE,
    seconds: SECONDS,
    messages: total,
    sent_seconds: Number(sentSeconds.toFixed(2)),
    per_s: Math.round(measured.events / ((lastArrival - started) / 1000 || 1)),
    limit_per_s: rawInsertPerSecond(total),
    p50_ms: percentile(latencies, 0.5),
    p99_ms: percentile(latencies, 0.99),
    max_ms: latencies.length ? Number(Math.max(...latencies).toFixed(1)) : null,
    non_200: measured.non200,
    lost: total - measured.events,
    warmup_seconds: WARMUP_SECONDS,
    warmup_p99_ms: warmupTotal > 0 ? percentile(warmupLatencies, 0.99) : null,
    warmup_lost: warmupTotal - warmup.events,
    server_peak_rss_mb: rss,
  });
}

if (runs("list")) await queryScenario("list");
if (runs("page")) await queryScenario("page");
if (runs("sse")) await sseScenario();
rmSync(root, { recursive: true, force: true });
process.exit(0);
