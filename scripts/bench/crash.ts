/**
 * crash: a real server process sends 20,000 queued WhatsApp messages to the Cloud API fake
 * (its own process, so it outlives the kills) and is killed with SIGKILL 10 times at random
 * moments, each time restarted on the same DATA_DIR. At the end every message must have
 * reached the fake (lost = 0) and every row must say sent. Duplicates can only be messages
 * handed to the provider whose answer was not yet written when the process died; those rows
 * are still `sending` in the database right after the kill, so `max_in_flight` is the sum of
 * `sending` rows found after each kill: duplicates ≤ max_in_flight.
 *
 *   npm run bench -- crash              (BENCH_MESSAGES=5000 BENCH_KILLS=5 for a quicker run)
 */
import Database from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startRemoteFake } from "../../tests/fakes/remote";
import { FAKE_WHATSAPP_DEMO_NUMBER, type WhatsAppSentMessage } from "../../tests/fakes/whatsapp";

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 20_000);
const KILLS = Number(process.env.BENCH_KILLS ?? 10);
const RATE = 1_000;
const root = mkdtempSync(join(tmpdir(), "engage-bench-crash-"));
const dataDir = join(root, "data");
process.env.DATA_DIR = dataDir;
process.env.LOG_LEVEL = "warn";
process.env.LOG_DESTINATION = "stderr";

const fake = await startRemoteFake("whatsapp");
process.env.WHATSAPP_API_BASE_URL = fake.url;

const { startTestServer } = await import("../../tests/support/server");
const { createVerifiedUser, createWorkspaceFor } = await import("../../tests/support/accounts");
const { openWorkspaceContext } = await import("~/domain/workspaces/access.server");
const { saveIntegration } = await import("~/domain/delivery/integrations.server");
const { queueMessages } = await import("~/domain/delivery/outbox.server");
const { closeAllTenantDbs, tenantDbPath } = await import("~/db/tenants.server");
const { closeControlDb, getControlDb } = await import("~/db/control.server");
const { integrations } = await import("~/db/schema/control");
const { eq } = await import("drizzle-orm");

const owner = await createVerifiedUser({ name: "Bench Owner" });
const workspace = createWorkspaceFor(owner, { country: "IN" });
const ctx = openWorkspaceContext(workspace.id, { type: "user", id: owner.id }, {});
const number = FAKE_WHATSAPP_DEMO_NUMBER;
saveIntegration(ctx, workspace.id, "whatsapp", {
  phoneNumberId: number.phoneNumberId,
  wabaId: number.wabaId,
  accessToken: number.accessToken,
  appSecret: "bench-app-secret",
  verifyToken: "bench-verify",
});
// Above the form's cap (Meta's highest tier): the kills must land while sends are in flight.
getControlDb()
  .update(integrations)
  .set({ ratePerSecond: RATE, updatedAt: new Date() })
  .where(eq(integrations.workspaceId, workspace.id))
  .run();

const client = ctx.db.$client;
client.transaction(() => {
  const now = Date.now();
  const contact = client.prepare(
    "INSERT INTO contacts (phone, name, name_key, attributes, created_at, updated_at) VALUES (?, ?, ?, '{}', ?, ?)",
  );
  const consent = client.prepare(
    "INSERT INTO consents (contact_id, channel, status, source, at) VALUES (?, 'whatsapp', 'granted', 'bench', ?)",
  );
  for (let i = 0; i < MESSAGES; i++) {
    const id = contact.run(`+9170${String(i).padStart(8, "0")}`, `P${i}`, `p${i}`, now, now)
      .lastInsertRowid as number;
    consent.run(id, now);
  }
})();
for (let start = 1; start <= MESSAGES; start += 5_000) {
  const inputs = [];
  for (let id = start; id < start + 5_000 && id <= MESSAGES; id++) {
    inputs.push({
      contactId: id,
      channel: "whatsapp" as const,
      kind: "marketing" as const,
      content: {
        channel: "whatsapp" as const,
        type: "template" as const,
        name: "crash_test",
        language: "en",
        bodyParams: [`m${id}`],
      },
    });
  }
  queueMessages(ctx, inputs);
}
closeAllTenantDbs();
closeControlDb();

// Read the outbox from outside the server, as an operator would.
const outbox = new Database(tenantDbPath(workspace.id), { readonly: true, fileMustExist: true });
const count = (where: string) =>
  (outbox.prepare(`SELECT count(*) AS n FROM messages WHERE ${where}`).get() as { n: number }).n;

const env = { WHATSAPP_API_BASE_URL: fake.url, JOBS_ENABLED: "true", LOG_LEVEL: "info" };
const started = performance.now();
let inFlightAtKills = 0;
let kills = 0;
for (; kills < KILLS; kills++) {
  const server = await startTestServer({ dataDir, env });
  const before = count("status = 'sent'");
  // Kill while it is sending: after a random part of a second of work.
  await new Promise((resolve) => setTimeout(resolve, 300 + Math.random() * 1_700));
  server.child.kill("SIGKILL");
  await server.exited;
  const sending = count("status = 'sending'");
  inFlightAtKills += sending;
  console.error(
    `kill ${kills + 1}: ${count("status = 'sent'") - before} recorded this run, ${sending} in flight`,
  );
  if (count("status IN ('queued', 'sending')") === 0) {
    kills += 1;
    break;
  }
}
const last = await startTestServer({ dataDir, env });
for (let waited = 0; waited < 300_000; waited += 200) {
  if (count("status IN ('queued', 'sending')") === 0) break;
  await new Promise((resolve) => setTimeout(resolve, 200));
}
await last.stop();
const seconds = (performance.now() - started) / 1000;

const sent = await fake.call<WhatsAppSentMessage[]>("sent");
const perMessage = new Map<string, number>();
for (const s of sent) {
  const key = s.template?.params[0] ?? "";
  perMessage.set(key, (perMessage.get(key) ?? 0) + 1);
}
let missing = 0;
for (let id = 1; id <= MESSAGES; id++) if (!perMessage.has(`m${id}`)) missing += 1;
const notSent = count("status <> 'sent'");
const duplicates = sent.length - perMessage.size;

console.log(
  JSON.stringify({
    bench: "crash",
    kills,
    messages: MESSAGES,
    lost: missing + notSent,
    duplicates,
    max_in_flight: inFlightAtKills,
    received_by_provider: sent.length,
    seconds: Number(seconds.toFixed(1)),
  }),
);
outbox.close();
await fake.stop();
rmSync(root, { recursive: true, force: true });
process.exit(0);
