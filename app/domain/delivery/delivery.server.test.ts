import { eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { getControlDb } from "~/db/control.server";
import { usageDaily } from "~/db/schema/control";
import { messages, suppressions, webhookEvents } from "~/db/schema/tenant";
import { reloadEnv } from "~/lib/env.server";
import { createWhatsAppFake, metaError, type WhatsAppFake } from "../../../tests/fakes/whatsapp";
import { insertContact, giveConsent } from "../../../tests/support/contacts";
import { isSuppressed } from "../contacts/suppressions.server";
import { suppressionKey } from "../contacts/suppression-hash.server";
import type { WorkspaceContext } from "../context";
import { RUN_ID } from "./dispatcher.server";
import { removeIntegration, saveIntegration } from "./integrations.server";
import { markDue, queueMessages, type QueueInput } from "./outbox.server";
import { processWebhookEvents, receiveWebhook } from "./webhooks.server";
import { makeWorkspace } from "../../../tests/support/workspaces";
import { dispatchAll } from "../../../tests/support/delivery";

/**
 * The delivery engine end to end against the WhatsApp Cloud fake: real HTTP through the real
 * adapter, real SQLite files, the dispatcher as the server runs it.
 */

let fake: WhatsAppFake;
let a: WorkspaceContext;
let b: WorkspaceContext;
let integrationA: string;
let integrationB: string;
const NUMBER_A = { phoneNumberId: "1065550001", accessToken: "token-a", wabaId: "200100" };
const NUMBER_B = { phoneNumberId: "1065550002", accessToken: "token-b", wabaId: "200200" };
const SECRET_A = "app-secret-a";
const SECRET_B = "app-secret-b";

function template(text: string): QueueInput["content"] {
  return {
    channel: "whatsapp",
    type: "template",
    name: "offer",
    language: "en",
    bodyParams: [text],
  };
}

function contactWithConsent(ctx: WorkspaceContext, phone: string, consent = true): number {
  const id = insertContact(ctx.db, { name: `P ${phone}`, phone });
  if (consent) giveConsent(ctx.db, id, "whatsapp", "granted", "test form");
  return id;
}

function statuses(ctx: WorkspaceContext) {
  return ctx.db.select().from(messages).all();
}

async function post(integrationId: string, secret: string, payload: unknown, forge = false) {
  const signed = fake.signedWebhook(secret, payload);
  const headers: Record<string, string> = { ...signed.headers };
  if (forge) headers["x-hub-signature-256"] = `sha256=${"0".repeat(64)}`;
  return receiveWebhook("whatsapp", integrationId, {
    method: "POST",
    url: `https://engage.test/webhooks/whatsapp/${integrationId}`,
    headers,
    body: signed.body,
  });
}

beforeAll(async () => {
  fake = createWhatsAppFake({ numbers: [NUMBER_A, NUMBER_B] });
  await fake.start();
  process.env.WHATSAPP_API_BASE_URL = fake.url;
  process.env.BASE_URL = "https://engage.test";
  process.env.PROVIDER_TIMEOUT_MS = "300";
  reloadEnv();
  a = await makeWorkspace("deliver-a");
  b = await makeWorkspace("deliver-b");
  const config = (n: typeof NUMBER_A, appSecret: string) => ({
    ...n,
    appSecret,
    verifyToken: "verify-me",
    ratePerSecond: 20,
  });
  integrationA = saveIntegration(a, a.workspaceId, "whatsapp", config(NUMBER_A, SECRET_A)).id;
  integrationB = saveIntegration(b, b.workspaceId, "whatsapp", config(NUMBER_B, SECRET_B)).id;
});

afterAll(async () => {
  await fake.stop();
});

beforeEach(() => {
  fake.clearFaults();
  fake.clearSent();
});

describe("sending", () => {
  it("sends queued templates through the adapter and records the provider ids", async () => {
    const ids = Array.from({ length: 10 }, (_, i) => contactWithConsent(a, `+9198765000${10 + i}`));
    const summary = queueMessages(
      a,
      ids.map((contactId, i) => ({
        contactId,
        channel: "whatsapp",
        kind: "marketing",
        content: template(`#${i}`),
      })),
    );
    expect(summary).toMatchObject({ queued: 10, skipped: 0 });
    await dispatchAll(a);
    const rows = statuses(a).filter((m) => summary.ids.includes(m.id));
    expect(rows.map((m) => m.status)).toEqual(Array(10).fill("sent"));
    const wamids = new Set(fake.sent.map((s) => s.wamid));
    expect(rows.every((m) => m.providerMessageId && wamids.has(m.providerMessageId))).toBe(true);
    expect(fake.sent.map((s) => s.template?.params[0]).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `#${i}`).sort(),
    );
    expect(fake.sent[0]).toMatchObject({ phoneNumberId: NUMBER_A.phoneNumberId, type: "template" });
    // Metered for billing, per workspace, channel and day.
    const usage = getControlDb()
      .select()
      .from(usageDaily)
      .where(eq(usageDaily.workspaceId, a.workspaceId))
      .all();
    expect(usage).toEqual([
      {
        workspaceId: a.workspaceId,
        day: new Date().toISOString().slice(0, 10),
        channel: "whatsapp",
        messages: 10,
      },
    ]);
  });

  it("skips suppressed and non-consenting contacts, counting each reason", async () => {
    const noConsent = contactWithConsent(a, "+919876500100", false);
    const suppressed = contactWithConsent(a, "+919876500101");
    a.db.$client
      .prepare(
        "INSERT INTO suppressions (hash, kind, channel, reason, created_at) VALUES (?, 'phone', 'all', 'manual', 0)",
      )
      .run(
        (await import("../contacts/suppression-hash.server")).suppressionHash(
          suppressionKey(a.db),
          "phone",
          "+919876500101",
        ),
      );
    const summary = queueMessages(a, [
      { contactId: noConsent, channel: "whatsapp", kind: "marketing", content: template("x") },
      { contactId: suppressed, channel: "whatsapp", kind: "marketing", content: template("y") },
      {
        contactId: noConsent,
        channel: "email",
        kind: "marketing",
        content: { channel: "email", subject: "Hi", html: "<p>Hi</p>", text: "Hi" },
      },
    ]);
    expect(summary).toMatchObject({
      queued: 0,
      skipped: 3,
      skippedReasons: {
        "No consent on this channel": 1,
        "On the suppression list": 1,
        "No email address": 1,
      },
    });
    await dispatchAll(a);
    expect(fake.sent).toHaveLength(0);
  });

  it("queueing the same idempotency key twice sends once", async () => {
    const id = contactWithConsent(a, "+919876500200");
    const input: QueueInput = {
      contactId: id,
      channel: "whatsapp",
      kind: "marketing",
      content: template("once"),
      idempotencyKey: "campaign:1:contact:200",
    };
    expect(queueMessages(a, [input]).queued).toBe(1);
    expect(queueMessages(a, [input])).toMatchObject({ queued: 0, duplicates: 1 });
    await dispatchAll(a);
    expect(fake.sent.filter((s) => s.template?.params[0] === "once")).toHaveLength(1);
  });

  it("retries 429, 5xx, resets, timeouts and 130429 until every message is sent, within the rate", async () => {
    const ids = Array.from({ length: 40 }, (_, i) =>
      contactWithConsent(a, `+9198765003${String(i).padStart(2, "0")}`),
    );
    const summary = queueMessages(
      a,
      ids.map((contactId, i) => ({
        contactId,
        channel: "whatsapp",
        kind: "marketing",
        content: template(`r${i}`),
      })),
    );
    const match = { path: /\/messages$/ };
    fake.injectFault(metaError(130429, "Rate limit hit"), { times: 2, match });
    fake.injectFault({ kind: "status", status: 500 }, { times: 2, match });
    fake.injectFault(
      { kind: "status", status: 429, headers: { "retry-after": "0" } },
      { times: 2, match },
    );
    fake.injectFault({ kind: "reset" }, { times: 1, match });
    fake.injectFault({ kind: "hang" }, { times: 1, match });
    await dispatchAll(a);
    const rows = statuses(a).filter((m) => summary.ids.includes(m.id));
    expect(rows.filter((m) => m.status !== "sent").map((m) => [m.status, m.error])).toEqual([]);
    expect(
      new Set(
        fake.sent
          .filter((s) => s.template?.params[0]?.startsWith("r"))
          .map((s) => s.template!.params[0]),
      ).size,
    ).toBe(40);
    expect(fake.maxRatePerSecond(NUMBER_A.phoneNumberId)).toBeLessThanOrEqual(20);
    expect(rows.some((m) => m.attempts > 1)).toBe(true);
  });

  it("fails permanent errors at once with the provider's reason", async () => {
    const id = contactWithConsent(a, "+919876500400");
    const summary = queueMessages(a, [
      { contactId: id, channel: "whatsapp", kind: "marketing", content: template("p") },
    ]);
    fake.injectFault(metaError(131026, "Message undeliverable"), {
      match: { path: /\/messages$/ },
    });
    await dispatchAll(a);
    const row = statuses(a).find((m) => m.id === summary.ids[0])!;
    expect(row.status).toBe("failed");
    expect(row.attempts).toBe(1);
    expect(row.error).toMatch(/131026/);
  });

  it("refuses free-form text outside the 24-hour window without calling Meta", async () => {
    const id = contactWithConsent(a, "+919876500500");
    const summary = queueMessages(a, [
      {
        contactId: id,
        channel: "whatsapp",
        kind: "service",
        content: { channel: "whatsapp", type: "text", text: "hello" },
      },
    ]);
    await dispatchAll(a);
    const row = statuses(a).find((m) => m.id === summary.ids[0])!;
    expect(row.status).toBe("failed");
    expect(row.error).toMatch(/24 hours/);
    expect(fake.sent).toHaveLength(0);
  });

  it("re-queues what an earlier process run left in flight (crash), and sends it", async () => {
    const id = contactWithConsent(a, "+919876500600");
    const summary = queueMessages(a, [
      { contactId: id, channel: "whatsapp", kind: "marketing", content: template("crash") },
    ]);
    a.db
      .update(messages)
      .set({
        status: "sending",
        leaseOwner: "run_previous",
        leaseExpiresAt: new Date(Date.now() + 60_000),
      })
      .where(eq(messages.id, summary.ids[0]!))
      .run();
    expect(RUN_ID).not.toBe("run_previous");
    await dispatchAll(a);
    expect(statuses(a).find((m) => m.id === summary.ids[0])!.status).toBe("sent");
    expect(fake.sent.filter((s) => s.template?.params[0] === "crash")).toHaveLength(1);
  });

  it("fails messages whose integration was removed before sending", async () => {
    const c = await makeWorkspace("deliver-c");
    const id = saveIntegration(c, c.workspaceId, "whatsapp", {
      ...NUMBER_A,
      appSecret: "s",
      verifyToken: "v",
    }).id;
    const contact = contactWithConsent(c, "+919876500700");
    const summary = queueMessages(c, [
      { contactId: contact, channel: "whatsapp", kind: "marketing", content: template("gone") },
    ]);
    removeIntegration(c, c.workspaceId, id);
    await dispatchAll(c);
    const row = statuses(c).find((m) => m.id === summary.ids[0])!;
    expect(row.status).toBe("failed");
    expect(row.error).toMatch(/integration was removed/);
  });
});

describe("webhooks", () => {
  let messageId: string;
  let wamid: string;
  let phone: string;

  beforeAll(async () => {
    phone = "+919876500800";
    const id = contactWithConsent(a, phone);
    messageId = queueMessages(a, [
      { contactId: id, channel: "whatsapp", kind: "marketing", content: template("hooks") },
    ]).ids[0]!;
    await dispatchAll(a);
    wamid = statuses(a).find((m) => m.id === messageId)!.providerMessageId!;
  });

  const statusOf = () => statuses(a).find((m) => m.id === messageId)!;
  const status = (s: "sent" | "delivered" | "read" | "failed") =>
    fake.statusPayload({
      phoneNumberId: NUMBER_A.phoneNumberId,
      wamid,
      status: s,
      recipient: phone,
    });

  it("refuses a forged signature and stores nothing", async () => {
    const before = a.db.select().from(webhookEvents).all().length;
    const answer = await post(integrationA, SECRET_A, status("read"), true);
    expect(answer.status).toBe(401);
    expect(a.db.select().from(webhookEvents).all()).toHaveLength(before);
    expect(statusOf().status).toBe("sent");
  });

  it("moves a message forward only, and a replay is applied once", async () => {
    expect((await post(integrationA, SECRET_A, status("delivered"))).status).toBe(200);
    await processWebhookEvents(a.workspaceId);
    expect(statusOf().status).toBe("delivered");
    expect((await post(integrationA, SECRET_A, status("sent"))).status).toBe(200);
    await processWebhookEvents(a.workspaceId);
    expect(statusOf().status).toBe("delivered");
    expect((await post(integrationA, SECRET_A, status("read"))).status).toBe(200);
    expect((await post(integrationA, SECRET_A, status("read"))).status).toBe(200);
    await processWebhookEvents(a.workspaceId);
    expect(statusOf()).toMatchObject({ status: "read" });
    expect(statusOf().readAt).not.toBeNull();
    const stored = a.db
      .select()
      .from(webhookEvents)
      .all()
      .filter((e) => e.eventId === `${wamid}:read`);
    expect(stored).toHaveLength(1);
    const events = a.db.$client
      .prepare("SELECT type FROM contact_events WHERE data LIKE ? ORDER BY id")
      .all(`%${messageId}%`) as { type: string }[];
    expect(events.map((e) => e.type)).toEqual([
      "message.sent",
      "message.delivered",
      "message.read",
    ]);
  });

  it("applies events stored before a crash when the dispatcher next runs", async () => {
    const id = contactWithConsent(a, "+919876500850");
    const queued = queueMessages(a, [
      { contactId: id, channel: "whatsapp", kind: "marketing", content: template("late") },
    ]).ids[0]!;
    await dispatchAll(a);
    const provider = statuses(a).find((m) => m.id === queued)!.providerMessageId!;
    // Stored (the provider got its 200), then the process died before applying it.
    const event = {
      type: "status",
      eventId: `${provider}:delivered`,
      providerMessageId: provider,
      status: "delivered",
      at: new Date(),
      channel: "whatsapp",
    };
    a.db
      .insert(webhookEvents)
      .values({
        integrationId: integrationA,
        eventId: event.eventId,
        event: JSON.stringify(event),
        receivedAt: new Date(),
      })
      .run();
    expect(statuses(a).find((m) => m.id === queued)!.status).toBe("sent");
    markDue(a.workspaceId, Date.now());
    await dispatchAll(a);
    expect(statuses(a).find((m) => m.id === queued)!.status).toBe("delivered");
  });

  it("another workspace's integration cannot touch this workspace's messages", async () => {
    const before = statusOf();
    const forOther = fake.statusPayload({
      phoneNumberId: NUMBER_B.phoneNumberId,
      wamid,
      status: "failed",
      recipient: phone,
      errors: [{ code: 131026, title: "Undeliverable" }],
    });
    expect((await post(integrationB, SECRET_B, forOther)).status).toBe(200);
    await processWebhookEvents(b.workspaceId);
    await processWebhookEvents(a.workspaceId);
    expect(statusOf()).toEqual(before);
    // Signed with A's secret but sent to B's URL: B's secret does not verify it.
    expect((await post(integrationB, SECRET_A, forOther)).status).toBe(401);
  });

  it("STOP suppresses the channel and sends one confirmation", async () => {
    const inbound = fake.inboundPayload({
      phoneNumberId: NUMBER_A.phoneNumberId,
      from: phone,
      name: "P",
      text: " stop ",
      id: "wamid.IN1",
    });
    expect((await post(integrationA, SECRET_A, inbound)).status).toBe(200);
    expect((await post(integrationA, SECRET_A, inbound)).status).toBe(200);
    await processWebhookEvents(a.workspaceId);
    expect(isSuppressed(a.db, suppressionKey(a.db), { phone }, "whatsapp")).toBe(true);
    expect(isSuppressed(a.db, suppressionKey(a.db), { phone }, "sms")).toBe(false);
    await dispatchAll(a);
    const confirmations = fake.sent.filter((s) => s.to === phone.slice(1) && s.type === "text");
    expect(confirmations).toHaveLength(1);
    expect(confirmations[0]!.text).toMatch(/not get any more messages from Shop deliver-a/);
    // A marketing message to them now is skipped.
    const contactId = statuses(a).find((m) => m.id === messageId)!.contactId!;
    expect(
      queueMessages(a, [
        { contactId, channel: "whatsapp", kind: "marketing", content: template("after stop") },
      ]).skippedReasons,
    ).toEqual({ "On the suppression list": 1 });
    expect(a.db.select().from(suppressions).all().length).toBeGreaterThan(0);
  });

  it("an inbound message opens the 24-hour window for free-form text", async () => {
    const other = "+919876500900";
    const contact = contactWithConsent(a, other);
    const inbound = fake.inboundPayload({
      phoneNumberId: NUMBER_A.phoneNumberId,
      from: other,
      name: "Q",
      text: "Is the offer on?",
      id: "wamid.IN2",
    });
    expect((await post(integrationA, SECRET_A, inbound)).status).toBe(200);
    await processWebhookEvents(a.workspaceId);
    const summary = queueMessages(a, [
      {
        contactId: contact,
        channel: "whatsapp",
        kind: "service",
        content: { channel: "whatsapp", type: "text", text: "Yes, till Sunday" },
      },
    ]);
    await dispatchAll(a);
    expect(statuses(a).find((m) => m.id === summary.ids[0])!.status).toBe("sent");
    expect(fake.sent.find((s) => s.text === "Yes, till Sunday")).toBeTruthy();
  });
});
