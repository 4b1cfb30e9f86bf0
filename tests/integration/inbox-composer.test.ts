import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { messages } from "~/db/schema/tenant";
import { aiDrafts } from "~/db/schema/tenant-inbox";
import type { WorkspaceContext } from "~/domain/context";
import { storeAttachment } from "~/domain/inbox/attachments.server";
import { createCannedResponse } from "~/domain/inbox/canned.server";
import type { Channel } from "~/lib/channels";
import type { Browser } from "../support/accounts";
import { textOf } from "../support/html";
import type { TestServer } from "../support/server";
import { makeTeam, signInAll, startServer } from "../support/teams";
import { customerWrites as seedCustomerMessage } from "../support/inbox-seed";

/**
 * The composer's forms through the real server, as a browser without JavaScript posts them:
 * canned response "Insert" (prompts asked, then the text comes back in the Reply box), Send
 * with attachments and with a used AI draft.
 */

let server: TestServer;
let ctx: WorkspaceContext;
let owner: Browser;
let agent: Browser;
let viewer: Browser;
const slug = "inbox-composer";
const base = `/w/${slug}/inbox`;
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 73, 72]);
let sms: number;
let whatsapp: number;
let orderId: number;
let mapId: number;

function customerWrites(name: string, phone: string, channel: Channel, text: string) {
  return seedCustomerMessage(ctx, { name, phone, channel, text });
}

beforeAll(async () => {
  const team = await makeTeam({
    owner: "Olivia Owner",
    workspace: { slug, name: "Composer Co", country: "IN" },
    members: {
      agent: { name: "Ava Agent", role: "agent" },
      viewer: { name: "Victor Viewer", role: "viewer" },
    },
  });
  ctx = team.ctx;
  sms = customerWrites("Asha Rao", "+919800000401", "sms", "Where is my order?");
  whatsapp = customerWrites("Ravi Kumar", "+919800000402", "whatsapp", "Send the map please");
  const map = storeAttachment(ctx, { filename: "map.png", bytes: PNG, createdBy: null });
  mapId = createCannedResponse(ctx, {
    shortcut: "map",
    title: "Our map",
    body: "Here is how to find us.",
    attachmentIds: [map.id],
  }).id;
  orderId = createCannedResponse(ctx, {
    shortcut: "order",
    title: "Order status",
    body: "Hi {{ contact.first_name }}, order {{ prompt: Order number }} ships today.",
  }).id;
  server = await startServer();
  ({ owner, agent, viewer } = await signInAll(server, {
    owner: team.owner,
    agent: team.members.agent,
    viewer: team.members.viewer,
  }));
}, 90_000);

afterAll(async () => {
  await server?.stop();
});

describe("canned responses in the composer", () => {
  it("asks the prompts first, then puts the filled-in text after what was typed", async () => {
    const page = await textOf(await agent.get(`${base}/${sms}`));
    expect(page).toContain("Canned response");
    expect(page).toContain("/order — Order status");
    expect(page).toContain("Attachments go on WhatsApp only.");

    const asked = await agent.post(`${base}/${sms}`, {
      intent: "insert",
      canned: String(orderId),
      text: "Hello!",
    });
    expect(asked.status).toBe(200);
    const askedHtml = await textOf(asked);
    expect(askedHtml).toMatch(/<label for="canned-prompt-0">Order number<\/label>/);
    expect(askedHtml).toMatch(/<textarea[^>]*id="reply-text"[^>]*>Hello!<\/textarea>/);

    const filled = await agent.post(`${base}/${sms}`, {
      intent: "insert",
      canned: String(orderId),
      text: "Hello!",
      "prompt:Order number": "A-17",
    });
    expect(filled.status).toBe(200);
    expect(await textOf(filled)).toContain(
      ">Hello!\n\nHi Asha, order A-17 ships today.</textarea>",
    );
  });

  it("stacks a response's attachments on WhatsApp, and sends them as media after the text", async () => {
    const inserted = await agent.post(`${base}/${whatsapp}`, {
      intent: "insert",
      canned: String(mapId),
    });
    const html = await textOf(inserted);
    const attachment = /name="attachment"[^>]*value="([^"]+)"/.exec(html)?.[1];
    expect(attachment).toBeDefined();
    expect(html).toContain("map.png");

    const body = new URLSearchParams({
      intent: "reply",
      text: "Here is how to find us.",
      attachment: attachment!,
    });
    const sent = await agent.post(`${base}/${whatsapp}`, Object.fromEntries(body));
    expect(sent.status).toBe(302);
    const rows = ctx.db
      .select({ id: messages.id })
      .from(messages)
      .where(eq(messages.conversationId, whatsapp))
      .all();
    expect(rows).toHaveLength(2);
  });

  it("refuses a missing choice with a message, and a viewer cannot insert", async () => {
    const res = await agent.post(`${base}/${sms}`, { intent: "insert", canned: "" });
    expect(res.status).toBe(400);
    expect(await textOf(res)).toContain("Choose a canned response.");
    const refused = await viewer.post(`${base}/${sms}`, {
      intent: "insert",
      canned: String(orderId),
    });
    expect(refused.status).toBe(403);
  });
});

describe("sending a used AI draft", () => {
  it("marks the draft sent, and edited when the text changed", async () => {
    const draftId = ctx.db
      .insert(aiDrafts)
      .values({
        conversationId: sms,
        status: "ready",
        body: "It ships today.",
        createdAt: new Date(),
      })
      .returning({ id: aiDrafts.id })
      .get().id;
    const res = await agent.post(`${base}/${sms}`, {
      intent: "reply",
      text: "It ships today, Asha.",
      draftId: String(draftId),
    });
    expect(res.status).toBe(302);
    expect(ctx.db.select().from(aiDrafts).where(eq(aiDrafts.id, draftId)).get()).toMatchObject({
      status: "sent",
      edited: true,
    });
  });
});

describe("the inbox list", () => {
  it("links Reports for those who read analytics only", async () => {
    expect(await textOf(await owner.get(base))).toContain(`href="${base}/reports"`);
    expect(await textOf(await agent.get(base))).not.toContain(`href="${base}/reports"`);
  });
});
