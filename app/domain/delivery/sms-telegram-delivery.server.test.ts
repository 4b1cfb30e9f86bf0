import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consents, contacts, inboundMessages, messages, telegramLinks } from "~/db/schema/tenant";
import { reloadEnv } from "~/lib/env.server";
import {
  createSmsFake,
  inboundParams,
  signedCallback,
  statusCallbackParams,
  type SmsFake,
} from "../../../tests/fakes/sms";
import {
  createTelegramFake,
  signedUpdate,
  update,
  type TelegramFake,
} from "../../../tests/fakes/telegram";
import { giveConsent, insertContact } from "../../../tests/support/contacts";
import { dispatchAll, storedWebhookEvents } from "../../../tests/support/delivery";
import { makeWorkspace, WORKSPACE_SETTINGS } from "../../../tests/support/workspaces";
import { startWebhookRoute, type WebhookRoute } from "../../../tests/support/webhook-route";
import { suppressionKey } from "../contacts/suppression-hash.server";
import { isSuppressed, suppressionsFor } from "../contacts/suppressions.server";
import type { WorkspaceContext } from "../context";
import { updateWorkspaceSettings } from "../workspaces/workspaces.server";
import { checkIntegration, listIntegrations, saveIntegration } from "./integrations.server";
import { queueMessages, type QueueInput } from "./outbox.server";
import {
  contactTelegramLink,
  telegramBotUsername,
  workspaceTelegramLink,
} from "./telegram-links.server";
import { processWebhookEvents, receiveWebhook } from "./webhooks.server";

/**
 * SMS (Twilio-compatible) and Telegram end to end through the delivery engine: the real adapters
 * over HTTP to the provider fakes, and the fakes' own callbacks (signed Twilio status callbacks
 * and inbound messages, Telegram updates to the webhook the bot registered) coming back over
 * HTTP to `receiveWebhook` through a loopback stand-in for the server's webhook route, which is
 * BASE_URL here. Real SQLite files throughout.
 */

let route: WebhookRoute;
let sms: SmsFake;
let telegram: TelegramFake;

const ACCOUNT_A = { sid: "AC" + "a1".repeat(16), token: "sms-token-a" };
const ACCOUNT_B = { sid: "AC" + "b2".repeat(16), token: "sms-token-b" };
const FROM = "+15005550006";
const DLT_ENTITY = "1101456789012345678";
const BOT = { token: "7000000042:TEST-engage-bot-token_abcdefghij", username: "engage_test_bot" };

beforeAll(async () => {
  route = await startWebhookRoute();
  sms = createSmsFake({ accounts: [ACCOUNT_A, ACCOUNT_B] });
  telegram = createTelegramFake({ bots: [BOT], allowHttpWebhook: true });
  await Promise.all([sms.start(), telegram.start()]);
  process.env.SMS_API_BASE_URL = sms.url;
  process.env.TELEGRAM_API_BASE_URL = telegram.url;
  process.env.BASE_URL = route.url;
  process.env.PROVIDER_TIMEOUT_MS = "2000";
  reloadEnv();
});

afterAll(async () => {
  await Promise.all([sms.stop(), telegram.stop(), route.stop()]);
});

function row(ctx: WorkspaceContext, id: string) {
  const found = ctx.db
    .select()
    .from(messages)
    .all()
    .find((m) => m.id === id);
  if (!found) throw new Error(`no message ${id}`);
  return found;
}

function consentOf(ctx: WorkspaceContext, contactId: number, channel: string) {
  return ctx.db
    .select()
    .from(consents)
    .all()
    .find((c) => c.contactId === contactId && c.channel === channel)?.status;
}

function suppressed(
  ctx: WorkspaceContext,
  ids: { email?: string; phone?: string },
  channel: "email" | "sms" | "whatsapp" | "telegram",
) {
  return isSuppressed(ctx.db, suppressionKey(ctx.db), ids, channel);
}

describe("SMS", () => {
  let a: WorkspaceContext;
  let b: WorkspaceContext;
  let smsA: string;
  let webhookA: string;
  let webhookB: string;

  const text = (body: string, dltTemplateId?: string): QueueInput["content"] => ({
    channel: "sms",
    text: body,
    ...(dltTemplateId ? { dltTemplateId } : {}),
  });

  function phoneContact(ctx: WorkspaceContext, phone: string, extra: { email?: string } = {}) {
    const id = insertContact(ctx.db, { name: `P ${phone}`, phone, email: extra.email ?? null });
    giveConsent(ctx.db, id, "sms", "granted", "store sign-up");
    return id;
  }

  async function sendOne(phone: string, body: string, dltTemplateId?: string) {
    const contactId = phoneContact(a, phone);
    const summary = queueMessages(a, [
      { contactId, channel: "sms", kind: "marketing", content: text(body, dltTemplateId) },
    ]);
    expect(summary.queued).toBe(1);
    await dispatchAll(a);
    const sent = row(a, summary.ids[0]!);
    expect(sent.status).toBe("sent");
    return { contactId, messageId: sent.id, sid: sent.providerMessageId! };
  }

  /** Plays a person texting the business number, signed as the provider does, over HTTP. */
  async function inbound(
    url: string,
    account: { sid: string; token: string },
    from: string,
    body: string,
    messageSid?: string,
  ) {
    const params = inboundParams({ from, to: FROM, body, messageSid, accountSid: account.sid });
    const signed = signedCallback(account.token, url, params);
    const response = await fetch(url, {
      method: "POST",
      headers: signed.headers,
      body: signed.body,
    });
    return response.status;
  }

  function smsTo(phone: string) {
    return sms.sent.filter((s) => s.to === phone);
  }

  beforeAll(async () => {
    a = await makeWorkspace("sms-a");
    b = await makeWorkspace("sms-b");
    const savedA = saveIntegration(a, a.workspaceId, "sms", {
      accountSid: ACCOUNT_A.sid,
      authToken: ACCOUNT_A.token,
      from: FROM,
      dltEntityId: DLT_ENTITY,
      ratePerSecond: 20,
    });
    const savedB = saveIntegration(b, b.workspaceId, "sms", {
      accountSid: ACCOUNT_B.sid,
      authToken: ACCOUNT_B.token,
      from: FROM,
    });
    smsA = savedA.id;
    webhookA = savedA.webhookUrl!;
    webhookB = savedB.webhookUrl!;
  });

  it("sends with StatusCallback = the integration's webhook URL and the DLT parameters", async () => {
    expect(webhookA).toBe(`${route.url}/webhooks/sms/${smsA}`);
    const { sid } = await sendOne("+919811100001", "Diwali sale: 20% off", "1107161234567890123");
    const sent = sms.sent.find((s) => s.sid === sid)!;
    expect(sent.accountSid).toBe(ACCOUNT_A.sid);
    expect(sent.params).toMatchObject({
      To: "+919811100001",
      From: FROM,
      Body: "Diwali sale: 20% off",
      StatusCallback: webhookA,
      DltEntityId: DLT_ENTITY,
      DltTemplateId: "1107161234567890123",
    });
    // B has no DLT settings: none are sent.
    const contactB = insertContact(b.db, { name: "B", phone: "+919811100002" });
    giveConsent(b.db, contactB, "sms", "granted");
    queueMessages(b, [
      { contactId: contactB, channel: "sms", kind: "marketing", content: text("Hi") },
    ]);
    await dispatchAll(b);
    const sentB = smsTo("+919811100002");
    expect(sentB).toHaveLength(1);
    expect(sentB[0]!.params.StatusCallback).toBe(webhookB);
    expect(sentB[0]!.params).not.toHaveProperty("DltEntityId");
    expect(sentB[0]!.params).not.toHaveProperty("DltTemplateId");
  });

  it("signed status callbacks move a message forward only", async () => {
    const { messageId, sid } = await sendOne("+919811100010", "Order shipped");
    expect(await sms.sendStatusCallback(sid, "delivered")).toBe(200);
    await processWebhookEvents(a.workspaceId);
    expect(row(a, messageId)).toMatchObject({ status: "delivered" });
    expect(row(a, messageId).deliveredAt).not.toBeNull();
    // A late "sent" (callbacks can arrive out of order) does not move it back.
    expect(await sms.sendStatusCallback(sid, "sent")).toBe(200);
    await processWebhookEvents(a.workspaceId);
    expect(row(a, messageId).status).toBe("delivered");
  });

  it("undelivered with an ErrorCode fails the message with the reason", async () => {
    const { messageId, sid } = await sendOne("+919811100011", "Your code is 1234");
    expect(await sms.sendStatusCallback(sid, "undelivered", "30003")).toBe(200);
    await processWebhookEvents(a.workspaceId);
    const failed = row(a, messageId);
    expect(failed.status).toBe("failed");
    expect(failed.error).toBe(
      "SMS 30003: the phone is unreachable (switched off or out of coverage)",
    );
    expect(failed.failedAt).not.toBeNull();
  });

  it("a forged X-Twilio-Signature is refused with 401 and nothing is stored", async () => {
    const { messageId, sid } = await sendOne("+919811100012", "Hello");
    const before = storedWebhookEvents(a);
    const params = statusCallbackParams({
      messageSid: sid,
      status: "undelivered",
      errorCode: "30005",
      accountSid: ACCOUNT_A.sid,
    });
    const forged = signedCallback("not-the-auth-token", webhookA, params);
    const response = await fetch(webhookA, {
      method: "POST",
      headers: forged.headers,
      body: forged.body,
    });
    expect(response.status).toBe(401);
    // Signed with the right token, but the body changed afterwards.
    const genuine = signedCallback(ACCOUNT_A.token, webhookA, params);
    const tampered = await receiveWebhook("sms", smsA, {
      method: "POST",
      url: webhookA,
      headers: genuine.headers,
      body: Buffer.from(genuine.body.replace("30005", "30003")),
    });
    expect(tampered.status).toBe(401);
    await processWebhookEvents(a.workspaceId);
    expect(storedWebhookEvents(a)).toBe(before);
    expect(row(a, messageId).status).toBe("sent");
  });

  it("inbound STOP suppresses SMS only and sends one confirmation, also when replayed", async () => {
    const phone = "+919811100020";
    const contactId = phoneContact(a, phone);
    giveConsent(a.db, contactId, "whatsapp", "granted");
    expect(
      await inbound(webhookA, ACCOUNT_A, phone, "Stop", "SMstop0000000000000000000000000001"),
    ).toBe(200);
    expect(
      await inbound(webhookA, ACCOUNT_A, phone, "Stop", "SMstop0000000000000000000000000001"),
    ).toBe(200);
    await processWebhookEvents(a.workspaceId);
    expect(suppressed(a, { phone }, "sms")).toBe(true);
    expect(suppressed(a, { phone }, "whatsapp")).toBe(false);
    expect(consentOf(a, contactId, "sms")).toBe("withdrawn");
    expect(consentOf(a, contactId, "whatsapp")).toBe("granted");
    await dispatchAll(a);
    const confirmations = smsTo(phone);
    expect(confirmations).toHaveLength(1);
    expect(confirmations[0]!.body).toBe("You will not get any more messages from Shop sms-a here.");
    // Marketing to them now is skipped, and nothing more goes out.
    const next = queueMessages(a, [
      { contactId, channel: "sms", kind: "marketing", content: text("Come back!") },
    ]);
    expect(next.skippedReasons).toEqual({ "On the suppression list": 1 });
    await dispatchAll(a);
    expect(smsTo(phone)).toHaveLength(1);
    const stored = a.db
      .select()
      .from(inboundMessages)
      .all()
      .filter((m) => m.sender === phone);
    expect(stored).toHaveLength(1);
  });

  it("STOP ALL suppresses every channel", async () => {
    const phone = "+919811100021";
    const email = "stopall@example.com";
    const contactId = phoneContact(a, phone, { email });
    giveConsent(a.db, contactId, "email", "granted");
    giveConsent(a.db, contactId, "whatsapp", "granted");
    expect(await inbound(webhookA, ACCOUNT_A, phone, "stop  all")).toBe(200);
    await processWebhookEvents(a.workspaceId);
    for (const channel of ["sms", "whatsapp", "telegram"] as const) {
      expect(suppressed(a, { phone }, channel)).toBe(true);
    }
    expect(suppressed(a, { email }, "email")).toBe(true);
    for (const channel of ["sms", "email", "whatsapp"]) {
      expect(consentOf(a, contactId, channel)).toBe("withdrawn");
    }
    await dispatchAll(a);
    expect(smsTo(phone).map((s) => s.body)).toEqual([
      "You will not get any more messages from Shop sms-a.",
    ]);
  });

  it("a workspace's own opt-out keyword works once configured", async () => {
    const phone = "+919811100022";
    const contactId = phoneContact(a, phone);
    expect(await inbound(webhookA, ACCOUNT_A, phone, "band karo")).toBe(200);
    await processWebhookEvents(a.workspaceId);
    expect(suppressed(a, { phone }, "sms")).toBe(false);

    updateWorkspaceSettings(a, a.workspaceId, {
      name: "Shop sms-a",
      ...WORKSPACE_SETTINGS,
      stopKeywords: "BAND KARO, ruko",
    });
    expect(await inbound(webhookA, ACCOUNT_A, phone, "  Band   Karo ")).toBe(200);
    await processWebhookEvents(a.workspaceId);
    expect(suppressed(a, { phone }, "sms")).toBe(true);
    expect(consentOf(a, contactId, "sms")).toBe("withdrawn");
    await dispatchAll(a);
    expect(smsTo(phone)).toHaveLength(1);
  });

  it("21610 on send (the number opted out at the provider) fails the message and suppresses it", async () => {
    const phone = "+919811100030";
    sms.optOut(phone);
    const contactId = phoneContact(a, phone);
    const summary = queueMessages(a, [
      { contactId, channel: "sms", kind: "marketing", content: text("Sale") },
    ]);
    await dispatchAll(a);
    const failed = row(a, summary.ids[0]!);
    expect(failed.status).toBe("failed");
    expect(failed.attempts).toBe(1);
    expect(failed.error).toBe("SMS 21610: the recipient has opted out (replied STOP)");
    expect(suppressionsFor(a.db, suppressionKey(a.db), { phone })).toEqual([
      expect.objectContaining({ kind: "phone", channel: "sms" }),
    ]);
    expect(consentOf(a, contactId, "sms")).toBe("withdrawn");
  });

  it("another workspace's integration cannot touch this workspace's messages", async () => {
    const { messageId, sid } = await sendOne("+919811100040", "Yours only");
    const before = row(a, messageId);
    // Validly signed for B's URL with B's token, naming A's message.
    const params = statusCallbackParams({
      messageSid: sid,
      status: "undelivered",
      errorCode: "30005",
      accountSid: ACCOUNT_B.sid,
    });
    const signedB = signedCallback(ACCOUNT_B.token, webhookB, params);
    const answer = await fetch(webhookB, {
      method: "POST",
      headers: signedB.headers,
      body: signedB.body,
    });
    expect(answer.status).toBe(200);
    // Signed with A's token but sent to B's URL: B's token does not verify it.
    const signedA = signedCallback(ACCOUNT_A.token, webhookB, params);
    expect(
      (await fetch(webhookB, { method: "POST", headers: signedA.headers, body: signedA.body }))
        .status,
    ).toBe(401);
    await processWebhookEvents(b.workspaceId);
    await processWebhookEvents(a.workspaceId);
    expect(row(a, messageId)).toEqual(before);
  });
});

describe("Telegram", () => {
  let t: WorkspaceContext;
  let tg: string;

  const message = (body: string): QueueInput["content"] => ({ channel: "telegram", text: body });

  function contactByChat(chatId: string) {
    return t.db
      .select()
      .from(contacts)
      .all()
      .filter((c) => c.telegramChatId === chatId);
  }

  /** A person presses Start on a t.me link: Telegram posts the update to the bot's webhook. */
  async function start(chatId: number, token: string, updateId: number, firstName = "Asha") {
    const status = await telegram.deliverUpdate(
      BOT.token,
      update({ updateId, chatId, text: `/start ${token}`, firstName }),
    );
    expect(status).toBe(200);
    await processWebhookEvents(t.workspaceId);
  }

  beforeAll(async () => {
    t = await makeWorkspace("tg-a");
    tg = saveIntegration(t, t.workspaceId, "telegram", { botToken: BOT.token }).id;
  });

  it("Test connection registers the webhook with a secret and learns the bot's username", async () => {
    expect(telegram.webhook(BOT.token)).toBeUndefined();
    expect(telegramBotUsername(t.workspaceId)).toBeNull();
    expect(workspaceTelegramLink(t).url).toBeNull();
    const check = await checkIntegration(t, t.workspaceId, tg);
    expect(check.ok).toBe(true);
    expect(check.detail).toMatch(/@engage_test_bot.*webhook registered/);
    const hook = telegram.webhook(BOT.token)!;
    expect(hook.url).toBe(`${route.url}/webhooks/telegram/${tg}`);
    expect(hook.secretToken).toMatch(/^[A-Za-z0-9_-]{20,256}$/);
    expect(hook.allowedUpdates).toContain("message");
    expect(telegramBotUsername(t.workspaceId)).toBe("engage_test_bot");
    expect(listIntegrations(t.workspaceId)[0]!.details.botUsername).toBe("engage_test_bot");
    const link = workspaceTelegramLink(t);
    expect(link.url).toBe(`https://t.me/engage_test_bot?start=${link.token}`);
  });

  it("/start with the workspace link creates a contact with the chat id (once, even replayed)", async () => {
    const link = workspaceTelegramLink(t);
    expect(contactByChat("700001")).toHaveLength(0);
    const body = update({
      updateId: 1001,
      chatId: 700001,
      text: `/start ${link.token}`,
      firstName: "Ravi",
      lastName: "K",
    });
    expect(await telegram.deliverUpdate(BOT.token, body)).toBe(200);
    expect(await telegram.deliverUpdate(BOT.token, body)).toBe(200);
    await processWebhookEvents(t.workspaceId);
    const created = contactByChat("700001");
    expect(created).toHaveLength(1);
    expect(created[0]!.name).toBe("Ravi K");
    // The workspace link stays usable for the next person.
    await start(700004, link.token, 1002, "Sita");
    expect(contactByChat("700004")).toHaveLength(1);
  });

  it("a contact's own link attaches the chat to that contact", async () => {
    const contactId = insertContact(t.db, { name: "Meera", phone: "+919812300001" });
    const link = contactTelegramLink(t, contactId);
    const count = t.db.select().from(contacts).all().length;
    await start(700002, link.token, 1003, "Meera");
    expect(t.db.select().from(contacts).all()).toHaveLength(count);
    expect(contactByChat("700002").map((c) => c.id)).toEqual([contactId]);
    const used = t.db
      .select()
      .from(telegramLinks)
      .all()
      .find((l) => l.token === link.token)!;
    expect(used.usedAt).not.toBeNull();
  });

  it("a contact's link is single use: a second /start with it moves no chat", async () => {
    const owner = insertContact(t.db, { name: "Devi", phone: "+919812300009" });
    const link = contactTelegramLink(t, owner);
    await start(700010, link.token, 1010, "Devi");
    expect(contactByChat("700010").map((c) => c.id)).toEqual([owner]);
    // Someone else (another chat) presses Start on the same, now used, link.
    const count = t.db.select().from(contacts).all().length;
    await start(700011, link.token, 1011, "Mallory");
    expect(contactByChat("700010").map((c) => c.id)).toEqual([owner]);
    expect(contactByChat("700011")).toEqual([]);
    expect(t.db.select().from(contacts).all()).toHaveLength(count);
    // A fresh link for the same contact works once more.
    const next = contactTelegramLink(t, owner);
    expect(next.token).not.toBe(link.token);
  });

  it("a message to a linked contact is sent and marked delivered at once", async () => {
    const [meera] = contactByChat("700002");
    giveConsent(t.db, meera!.id, "telegram", "granted");
    const summary = queueMessages(t, [
      {
        contactId: meera!.id,
        channel: "telegram",
        kind: "marketing",
        content: message("Hello Meera"),
      },
    ]);
    expect(summary.queued).toBe(1);
    await dispatchAll(t);
    const sent = row(t, summary.ids[0]!);
    expect(sent.status).toBe("delivered");
    expect(sent.sentAt).not.toBeNull();
    expect(sent.deliveredAt).not.toBeNull();
    const atFake = telegram.sent.filter((s) => s.chatId === "700002");
    expect(atFake.map((s) => s.text)).toEqual(["Hello Meera"]);
    expect(sent.providerMessageId).toBe(`700002:${atFake[0]!.messageId}`);
  });

  it("403 bot was blocked fails the message and withdraws/suppresses Telegram for the contact", async () => {
    const phone = "+919812300003";
    const contactId = insertContact(t.db, { name: "Kiran", phone });
    await start(700003, contactTelegramLink(t, contactId).token, 1004, "Kiran");
    giveConsent(t.db, contactId, "telegram", "granted");
    giveConsent(t.db, contactId, "sms", "granted");
    telegram.blockBy(700003);
    const summary = queueMessages(t, [
      { contactId, channel: "telegram", kind: "marketing", content: message("Offer") },
    ]);
    await dispatchAll(t);
    const failed = row(t, summary.ids[0]!);
    expect(failed.status).toBe("failed");
    expect(failed.error).toBe("Telegram 403: bot was blocked by the user");
    expect(consentOf(t, contactId, "telegram")).toBe("withdrawn");
    expect(consentOf(t, contactId, "sms")).toBe("granted");
    expect(suppressed(t, { phone }, "telegram")).toBe(true);
    expect(suppressed(t, { phone }, "sms")).toBe(false);
    const next = queueMessages(t, [
      { contactId, channel: "telegram", kind: "marketing", content: message("Again") },
    ]);
    expect(next.skipped).toBe(1);
    expect(telegram.sent.filter((s) => s.chatId === "700003")).toHaveLength(0);
    // The chat is unlinked, so even a service message is not attempted again.
    expect(contactByChat("700003")).toHaveLength(0);
    const service = queueMessages(t, [
      { contactId, channel: "telegram", kind: "service", content: message("Your order") },
    ]);
    expect(service.skippedReasons).toEqual({ "Not linked to the Telegram bot": 1 });
  });

  it("a wrong or missing secret token is refused with 401 and nothing is stored", async () => {
    const before = storedWebhookEvents(t);
    const body = update({ updateId: 2001, chatId: 700009, text: "hello" });
    const wrong = signedUpdate("not-the-secret", body);
    const url = `${route.url}/webhooks/telegram/${tg}`;
    expect(
      (await fetch(url, { method: "POST", headers: wrong.headers, body: wrong.body })).status,
    ).toBe(401);
    const missing = await receiveWebhook("telegram", tg, {
      method: "POST",
      url,
      headers: { "content-type": "application/json" },
      body: Buffer.from(wrong.body),
    });
    expect(missing.status).toBe(401);
    await processWebhookEvents(t.workspaceId);
    expect(storedWebhookEvents(t)).toBe(before);
    expect(contactByChat("700009")).toHaveLength(0);
  });

  it("paces messages to one chat to at most one a second", async () => {
    const [ravi] = contactByChat("700001");
    const summary = queueMessages(
      t,
      Array.from({ length: 5 }, (_, i) => ({
        contactId: ravi!.id,
        channel: "telegram" as const,
        kind: "service" as const,
        content: message(`Update ${i + 1}`),
      })),
    );
    expect(summary.queued).toBe(5);
    await dispatchAll(t);
    expect(summary.ids.map((id) => row(t, id).status)).toEqual(Array(5).fill("delivered"));
    const times = telegram.sent
      .filter((s) => s.chatId === "700001")
      .map((s) => s.at)
      .sort((x, y) => x - y);
    expect(times).toHaveLength(5);
    for (let i = 1; i < times.length; i++) {
      expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(950);
    }
    expect(telegram.maxRatePerSecondPerChat(BOT.token, 700001)).toBeLessThanOrEqual(1);
  });
});
