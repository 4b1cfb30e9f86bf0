import { eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { inboundMessages } from "~/db/schema/tenant";
import { agentStates, attachments, conversations } from "~/db/schema/tenant-inbox";
import { reloadEnv } from "~/lib/env.server";
import { createWhatsAppFake, type WhatsAppFake } from "../../../tests/fakes/whatsapp";
import { makeTeam, type Team } from "../../../tests/support/teams";
import type { WorkspaceContext } from "../context";
import { setAgentCapacity, setAvailability } from "../inbox/agents.server";
import {
  readInboxSettings,
  settingsToInput,
  updateInboxSettings,
} from "../inbox/inbox-settings.server";
import { conversationThread } from "../inbox/thread.server";
import { settleInboundMedia } from "./inbound-follow-ups.server";
import { saveIntegration } from "./integrations.server";
import { processWebhookEvents, receiveWebhook } from "./webhooks.server";

/**
 * What follows a customer's message on the real inbound path (WhatsApp fake, signed webhooks):
 * auto-assignment, and the image or document they sent kept as an attachment.
 */

let fake: WhatsAppFake;
let team: Team<"ana" | "ben">;
let ctx: WorkspaceContext;
let integrationId: string;
const NUMBER = { phoneNumberId: "1065559001", accessToken: "token-f", wabaId: "209100" };
const SECRET = "app-secret-f";
// A PNG signature and header: enough for the attachment check to know it is a PNG.
const PNG = Buffer.from(
  "89504e470d0a1a0a0000000d4948445200000001000000010806000000" + "1f15c4890000000a49444154",
  "hex",
);
let seq = 0;

/** Verifies and stores a webhook, as the route does; applying it is left to the caller. */
async function store(payload: unknown) {
  const signed = fake.signedWebhook(SECRET, payload);
  const answer = await receiveWebhook("whatsapp", integrationId, {
    method: "POST",
    url: `https://engage.test/webhooks/whatsapp/${integrationId}`,
    headers: { ...signed.headers },
    body: signed.body,
  });
  expect(answer.status).toBe(200);
}

async function post(payload: unknown) {
  await store(payload);
  await processWebhookEvents(ctx.workspaceId);
  await settleInboundMedia();
}

function phone() {
  seq += 1;
  return `+9198765${String(10000 + seq)}`;
}

function inboundFor(from: string) {
  return ctx.db.select().from(inboundMessages).where(eq(inboundMessages.sender, from)).get()!;
}

beforeAll(async () => {
  fake = createWhatsAppFake({ numbers: [NUMBER] });
  await fake.start();
  process.env.WHATSAPP_API_BASE_URL = fake.url;
  process.env.BASE_URL = "https://engage.test";
  process.env.PROVIDER_TIMEOUT_MS = "500";
  reloadEnv();
  team = await makeTeam({
    owner: "Olga Owner",
    workspace: { slug: "inbound-follow" },
    members: {
      ana: { name: "Ana Agent", role: "agent" },
      ben: { name: "Ben Agent", role: "agent" },
    },
  });
  ctx = team.ctx;
  integrationId = saveIntegration(ctx, ctx.workspaceId, "whatsapp", {
    ...NUMBER,
    appSecret: SECRET,
    verifyToken: "verify-me",
    ratePerSecond: 20,
  }).id;
});

afterAll(async () => {
  await fake.stop();
});

beforeEach(() => {
  ctx.db.delete(agentStates).run();
  updateInboxSettings(ctx, { ...settingsToInput(readInboxSettings(ctx)), autoAssign: true });
});

describe("after a customer message", () => {
  it("auto-assigns the conversation to the online agent", async () => {
    setAvailability(ctx, team.members.ana.id, true);
    const from = phone();
    await post(
      fake.inboundPayload({ phoneNumberId: NUMBER.phoneNumberId, from, name: "C", text: "Hi" }),
    );
    const c = ctx.db
      .select()
      .from(conversations)
      .where(eq(conversations.id, inboundFor(from).conversationId!))
      .get()!;
    expect(c.assigneeId).toBe(team.members.ana.id);
  });
});

describe("a burst of customer messages applied as one batch", () => {
  it("hands them out in arrival order, round-robin, up to each agent's cap; the rest wait", async () => {
    ctx.db.update(conversations).set({ status: "resolved", queuedAt: null }).run();
    setAvailability(ctx, team.members.ana.id, true);
    setAvailability(ctx, team.members.ben.id, true);
    setAgentCapacity(ctx, team.members.ana.id, 2);
    setAgentCapacity(ctx, team.members.ben.id, 2);
    const senders = Array.from({ length: 5 }, () => phone());
    for (const from of senders) {
      await store(
        fake.inboundPayload({ phoneNumberId: NUMBER.phoneNumberId, from, name: "C", text: "Hi" }),
      );
    }
    // One apply: the follow-ups of all five run together and drain the queue once.
    await processWebhookEvents(ctx.workspaceId);
    const rows = senders.map((from) =>
      ctx.db
        .select()
        .from(conversations)
        .where(eq(conversations.id, inboundFor(from).conversationId!))
        .get()!,
    );
    const assignees = rows.map((c) => c.assigneeId);
    expect(assignees.slice(0, 4).filter((a) => a === team.members.ana.id)).toHaveLength(2);
    expect(assignees.slice(0, 4).filter((a) => a === team.members.ben.id)).toHaveLength(2);
    expect(assignees[4]).toBeNull();
    expect(rows[4]!.queuedAt).not.toBeNull();
  });
});

describe("inbound media", () => {
  it("downloads an image, keeps it and links it; the thread names the attachment", async () => {
    const mediaId = fake.addMedia({ mimeType: "image/png", bytes: PNG });
    const from = phone();
    await post(
      fake.inboundMediaPayload({
        phoneNumberId: NUMBER.phoneNumberId,
        from,
        name: "C",
        kind: "image",
        mediaId,
        mimeType: "image/png",
        caption: "The broken part",
      }),
    );
    const row = inboundFor(from);
    expect(row.attachmentId).toBeTruthy();
    const stored = ctx.db
      .select()
      .from(attachments)
      .where(eq(attachments.id, row.attachmentId!))
      .get()!;
    expect(stored).toMatchObject({ kind: "image", mimeType: "image/png", size: PNG.length });
    const thread = conversationThread(ctx, row.conversationId!);
    expect(JSON.stringify(thread.items)).toContain(row.attachmentId!);
  });

  it("a failed download keeps the placeholder text and links nothing", async () => {
    const from = phone();
    await post(
      fake.inboundMediaPayload({
        phoneNumberId: NUMBER.phoneNumberId,
        from,
        name: "C",
        kind: "document",
        mediaId: "no-such-media",
        mimeType: "application/pdf",
        filename: "invoice.pdf",
      }),
    );
    const row = inboundFor(from);
    expect(row.attachmentId).toBeNull();
    expect(row.text).not.toBe("");
    expect(row.conversationId).not.toBeNull();
  });
});
