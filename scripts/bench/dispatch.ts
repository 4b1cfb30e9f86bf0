/**
 * dispatch: 100,000 queued WhatsApp template messages sent by the dispatcher (claim, pace,
 * send through the real adapter over undici, record) to the WhatsApp Cloud fake on loopback
 * with its own limit out of the way. The limit is a bare loop of the same HTTP requests with
 * the same client (httpCall) and the same concurrency to the same fake, in the same run. A
 * second line sends at a configured 80 msg/s and reports the highest rate the fake saw in any
 * one-second window.
 *
 *   npm run bench -- dispatch           (BENCH_MESSAGES=20000 for a quicker run)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startRemoteFake } from "../../tests/fakes/remote";
import { FAKE_WHATSAPP_DEMO_NUMBER } from "../../tests/fakes/whatsapp";
import { report } from "./report";

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 100_000);
const PACED = Number(process.env.BENCH_PACED ?? 800);
const CONCURRENCY = 256;
const root = mkdtempSync(join(tmpdir(), "engage-bench-dispatch-"));
process.env.DATA_DIR = join(root, "data");
process.env.LOG_LEVEL = "warn";
process.env.LOG_DESTINATION = "stderr";
process.env.BASE_URL = "https://engage.bench";
process.env.DELIVERY_MAX_IN_FLIGHT = String(CONCURRENCY);

// In its own process: the fake must not compete with the dispatcher for one event loop.
const fake = await startRemoteFake("whatsapp", { record: false });
process.env.WHATSAPP_API_BASE_URL = fake.url;

const { reloadEnv } = await import("~/lib/env.server");
reloadEnv();
const { getControlDb } = await import("~/db/control.server");
const { integrations } = await import("~/db/schema/control");
const { eq } = await import("drizzle-orm");
const { createUserByOperator } = await import("~/domain/admin/admin.server");
const { createWorkspace } = await import("~/domain/workspaces/workspaces.server");
const { openWorkspaceContext } = await import("~/domain/workspaces/access.server");
const { saveIntegration } = await import("~/domain/delivery/integrations.server");
const { queueMessages } = await import("~/domain/delivery/outbox.server");
const { Dispatcher } = await import("~/domain/delivery/dispatcher.server");
const { httpCall } = await import("~/channels/http.server");
const { closeAllTenantDbs } = await import("~/db/tenants.server");

const owner = await createUserByOperator(
  { actor: { type: "cli" }, now: () => new Date() },
  { name: "Bench", email: "bench@engage.bench", password: "plum orbit saddle 42" },
);
const actor = { type: "user" as const, id: owner.id };
const ws = createWorkspace({ actor, now: () => new Date() }, owner.id, {
  slug: "bench",
  name: "Bench",
  country: "IN",
  timezone: "Asia/Kolkata",
  currency: "INR",
});
const ctx = openWorkspaceContext(ws.id, actor, {});
const number = FAKE_WHATSAPP_DEMO_NUMBER;
const integrationId = saveIntegration(ctx, ws.id, "whatsapp", {
  phoneNumberId: number.phoneNumberId,
  wabaId: number.wabaId,
  accessToken: number.accessToken,
  appSecret: "bench-app-secret",
  verifyToken: "bench-verify",
}).id;

function setRate(perSecond: number): void {
  // The form caps the rate at Meta's highest tier; the bench takes pacing out of the way.
  getControlDb()
    .update(integrations)
    .set({ ratePerSecond: perSecond, updatedAt: new Date() })
    .where(eq(integrations.id, integrationId))
    .run();
}

// Contacts with WhatsApp consent, written directly (import speed is another bench).
const total = MESSAGES + PACED;
const client = ctx.db.$client;
client.transaction(() => {
  const contact = client.prepare(
    "INSERT INTO contacts (phone, name, name_key, attributes, created_at, updated_at) VALUES (?, ?, ?, '{}', ?, ?)",
  );
  const consent = client.prepare(
    "INSERT INTO consents (contact_id, channel, status, source, at) VALUES (?, 'whatsapp', 'granted', 'bench', ?)",
  );
  const now = Date.now();
  for (let i = 0; i < total; i++) {
    const id = contact.run(`+9170${String(i).padStart(8, "0")}`, `P${i}`, `p${i}`, now, now)
      .lastInsertRowid as number;
    consent.run(id, now);
  }
})();

function queue(from: number, count: number): void {
  for (let start = from; start < from + count; start += 5_000) {
    const inputs = [];
    for (let id = start + 1; id <= Math.min(from + count, start + 5_000); id++) {
      inputs.push({
        contactId: id,
        channel: "whatsapp" as const,
        kind: "marketing" as const,
        content: {
          channel: "whatsapp" as const,
          type: "template" as const,
          name: "diwali_offer",
          language: "en",
          bodyParams: [`P${id}`],
        },
      });
    }
    queueMessages(ctx, inputs);
  }
}

function p99(values: number[]): number {
  const sorted = Float64Array.from(values).sort();
  return Number(sorted[Math.floor(sorted.length * 0.99)]!.toFixed(1));
}

// Limit: the same requests, same client, same concurrency, no engine.
const url = `${fake.url}/v21.0/${number.phoneNumberId}/messages`;
const rawLatencies: number[] = [];
let next = 0;
const rawStarted = performance.now();
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < MESSAGES) {
      const i = next++;
      const t = performance.now();
      const reply = await httpCall({
        method: "POST",
        url,
        headers: { authorization: `Bearer ${number.accessToken}` },
        body: {
          messaging_product: "whatsapp",
          recipient_type: "individual",
          to: `9170${String(i).padStart(8, "0")}`,
          type: "template",
          template: {
            name: "diwali_offer",
            language: { code: "en" },
            components: [{ type: "body", parameters: [{ type: "text", text: `P${i}` }] }],
          },
        },
      });
      if (reply.status !== 200) throw new Error(`raw send failed: ${reply.status}`);
      rawLatencies.push(performance.now() - t);
    }
  }),
);
const rawSeconds = (performance.now() - rawStarted) / 1000;
await fake.call("clearSent");

async function drain(dispatcher: InstanceType<typeof Dispatcher>, expected: number) {
  dispatcher.start();
  while (dispatcher.stats.sent + dispatcher.stats.failed < expected) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    if (dispatcher.stats.failed > 0) throw new Error("a bench message failed");
  }
  await dispatcher.stop();
}

// Ours: queue, then time the dispatcher from wake-up to the last recorded result.
setRate(1_000_000);
queue(0, MESSAGES);
const latencies: number[] = [];
// Stored content only: no campaign to write, no timed work of other areas.
const NOTHING_ELSE = { dueHooks: [], content: null };
const dispatcher = new Dispatcher({ ...NOTHING_ELSE, onSendTime: (ms) => latencies.push(ms) });
const started = performance.now();
await drain(dispatcher, MESSAGES);
const seconds = (performance.now() - started) / 1000;
const received = await fake.call<number>("sentCount");
if (received !== MESSAGES) throw new Error(`fake got ${received} of ${MESSAGES}`);
const sentRows = client
  .prepare("SELECT count(*) AS n FROM messages WHERE status = 'sent'")
  .get() as { n: number };

report({
  bench: "dispatch",
  scenario: "unpaced",
  messages: MESSAGES,
  seconds: Number(seconds.toFixed(2)),
  per_s: Math.round(MESSAGES / seconds),
  limit_per_s: Math.round(MESSAGES / rawSeconds),
  p99_ms: p99(latencies),
  limit_p99_ms: p99(rawLatencies),
  recorded_sent: sentRows.n,
  max_in_flight: dispatcher.stats.maxInFlight,
});

// Paced: 80 msg/s configured, as Meta's default per number.
await fake.call("clearSent");
setRate(80);
queue(MESSAGES, PACED);
const paced = new Dispatcher(NOTHING_ELSE);
const pacedStarted = performance.now();
await drain(paced, PACED);
const pacedSeconds = (performance.now() - pacedStarted) / 1000;
report({
  bench: "dispatch",
  scenario: "paced_80",
  messages: PACED,
  seconds: Number(pacedSeconds.toFixed(2)),
  per_s: Math.round(PACED / pacedSeconds),
  limit_per_s: 80,
  configured_rate: 80,
  max_rate_seen: await fake.call<number>("maxRatePerSecond", number.phoneNumberId),
});

await fake.stop();
closeAllTenantDbs();
rmSync(root, { recursive: true, force: true });
process.exit(0);
