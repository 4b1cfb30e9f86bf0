import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { messages } from "~/db/schema/tenant";
import { conversations, teamMembers, teams } from "~/db/schema/tenant-inbox";
import type { WorkspaceContext } from "~/domain/context";
import type { Channel } from "~/lib/channels";
import type { Browser } from "../support/accounts";
import { textOf } from "../support/html";
import type { TestServer } from "../support/server";
import { makeTeam, signInAll, startServer } from "../support/teams";
import { customerWrites as seedCustomerMessage } from "../support/inbox-seed";

/**
 * The inbox pages through the real server, as a browser without JavaScript uses them. Customer
 * messages are seeded in this process, which shares the workspace's SQLite file with the server.
 */

let server: TestServer;
let ctx: WorkspaceContext;
let owner: Browser;
let agentA: Browser;
let agentB: Browser;
let marketer: Browser;
let viewer: Browser;
const slug = "inbox-pages";
const base = `/w/${slug}/inbox`;
let smsA: number;
let whatsappOld: number;

function customerWrites(name: string, phone: string, channel: Channel, text: string, at: number) {
  return seedCustomerMessage(ctx, { name, phone, channel, text, at });
}

beforeAll(async () => {
  const team = await makeTeam({
    owner: "Olivia Owner",
    workspace: { slug, name: "Inbox Pages Co", country: "IN" },
    members: {
      agentA: { name: "Ava Agent", role: "agent" },
      agentB: { name: "Ben Agent", role: "agent" },
      marketer: { name: "Mira Marketer", role: "marketer" },
      viewer: { name: "Victor Viewer", role: "viewer" },
    },
  });
  ctx = team.ctx;
  const now = Date.now();
  smsA = customerWrites(
    "Asha Rao",
    "+919800000301",
    "sms",
    "Can I change my delivery slot?",
    now - 60_000,
  );
  whatsappOld = customerWrites(
    "Ravi Old",
    "+919800000302",
    "whatsapp",
    "Thanks",
    now - 25 * 3_600_000,
  );
  const created = new Date(now);
  const a = ctx.db.insert(teams).values({ name: "Sales", createdAt: created }).returning().get();
  const b = ctx.db.insert(teams).values({ name: "Support", createdAt: created }).returning().get();
  ctx.db.insert(teamMembers).values({ teamId: a.id, userId: team.members.agentA.id }).run();
  ctx.db.insert(teamMembers).values({ teamId: b.id, userId: team.members.agentB.id }).run();
  ctx.db.update(conversations).set({ teamId: a.id }).where(eq(conversations.id, smsA)).run();
  server = await startServer();
  ({ owner, agentA, agentB, marketer, viewer } = await signInAll(server, {
    owner: team.owner,
    agentA: team.members.agentA,
    agentB: team.members.agentB,
    marketer: team.members.marketer,
    viewer: team.members.viewer,
  }));
}, 90_000);

afterAll(async () => {
  await server?.stop();
});

describe("the inbox list", () => {
  it("lists open conversations with contact, channel, preview and waiting time", async () => {
    const res = await owner.get(base);
    expect(res.status).toBe(200);
    const html = await textOf(res);
    expect(html).toContain("Asha Rao");
    expect(html).toContain("Ravi Old");
    expect(html).toContain("Can I change my delivery slot?");
    expect(html).toContain("Waiting");
    expect(html).toContain(">Sales<");
  });

  it("searches by name and by text, and shows an empty state", async () => {
    const byName = await textOf(await owner.get(`${base}?q=ravi`));
    expect(byName).toContain("Ravi Old");
    expect(byName).not.toContain("Asha Rao");
    const byText = await textOf(await owner.get(`${base}?q=delivery`));
    expect(byText).toContain("Asha Rao");
    expect(byText).not.toContain("Ravi Old");
    const none = await textOf(await owner.get(`${base}?status=resolved`));
    expect(none).toContain("No conversations here");
  });

  it("an agent sees their team's and unteamed conversations only", async () => {
    const b = await textOf(await agentB.get(base));
    expect(b).not.toContain("Asha Rao");
    expect(b).toContain("Ravi Old");
    const a = await textOf(await agentA.get(base));
    expect(a).toContain("Asha Rao");
  });

  it("a bad cursor is a 400, not a 500", async () => {
    expect((await owner.get(`${base}?cursor=nonsense`)).status).toBe(400);
  });
});

describe("a conversation", () => {
  it("shows the thread and the composer, and a reply is queued in the conversation", async () => {
    const page = await textOf(await agentA.get(`${base}/${smsA}`));
    expect(page).toContain("Can I change my delivery slot?");
    expect(page).toContain('name="text"');
    const res = await agentA.post(`${base}/${smsA}`, { intent: "reply", text: "Yes, which day?" });
    expect(res.status).toBe(302);
    const sent = ctx.db.select().from(messages).where(eq(messages.conversationId, smsA)).all();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ channel: "sms", kind: "service" });
    expect(sent[0]!.authorId).not.toBeNull();
    expect(await textOf(await agentA.get(`${base}/${smsA}`))).toContain("Yes, which day?");
  });

  it("refuses bad input with a 4xx and a message", async () => {
    const empty = await agentA.post(`${base}/${smsA}`, { intent: "reply", text: "  " });
    expect(empty.status).toBe(400);
    expect(await textOf(empty)).toContain("Write a reply.");
    expect((await agentA.post(`${base}/${smsA}`, { intent: "explode" })).status).toBe(400);
    expect(
      (await agentA.post(`${base}/${smsA}`, { intent: "status", status: "gone" })).status,
    ).toBe(400);
  });

  it("outside the WhatsApp window offers templates and refuses free text with the reason", async () => {
    const page = await textOf(await owner.get(`${base}/${whatsappOld}`));
    expect(page).toContain("Template only.");
    expect(page).not.toContain('name="text"');
    const res = await owner.post(`${base}/${whatsappOld}`, {
      intent: "reply",
      text: "Hello again",
    });
    expect(res.status).toBe(400);
    expect(await textOf(res)).toContain("WhatsApp only allows an approved template now.");
    expect(
      ctx.db.select().from(messages).where(eq(messages.conversationId, whatsappOld)).all(),
    ).toEqual([]);
  });

  it("resolves, snoozes and reopens", async () => {
    const resolve = await owner.post(`${base}/${whatsappOld}`, {
      intent: "status",
      status: "resolved",
    });
    expect(resolve.status).toBe(302);
    const row = () =>
      ctx.db.select().from(conversations).where(eq(conversations.id, whatsappOld)).get()!;
    expect(row().status).toBe("resolved");
    await owner.post(`${base}/${whatsappOld}`, { intent: "status", status: "open" });
    await owner.post(`${base}/${whatsappOld}`, {
      intent: "status",
      status: "snoozed",
      snooze: "reply",
    });
    expect(row()).toMatchObject({ status: "snoozed", snoozedUntil: null });
    await owner.post(`${base}/${whatsappOld}`, {
      intent: "status",
      status: "snoozed",
      snooze: "1h",
    });
    expect(row().snoozedUntil).not.toBeNull();
  });
});

describe("who may open what", () => {
  it("an agent of team B gets a 404 for team A's conversation, as for a missing id", async () => {
    expect((await agentB.get(`${base}/${smsA}`)).status).toBe(404);
    expect((await agentB.get(`${base}/999999`)).status).toBe(404);
    expect((await agentB.post(`${base}/${smsA}`, { intent: "reply", text: "hi" })).status).toBe(
      404,
    );
  });

  it("a viewer has no inbox; a marketer reads but cannot reply", async () => {
    expect((await viewer.get(base)).status).toBe(403);
    expect((await viewer.get(`${base}/${smsA}`)).status).toBe(403);
    const read = await marketer.get(`${base}/${smsA}`);
    expect(read.status).toBe(200);
    expect(await textOf(read)).not.toContain('name="text"');
    expect((await marketer.post(`${base}/${smsA}`, { intent: "reply", text: "hi" })).status).toBe(
      403,
    );
  });

  it("the nav shows the inbox to roles that have it", async () => {
    expect(await textOf(await agentA.get(`/w/${slug}`))).toContain(`href="${base}"`);
    expect(await textOf(await viewer.get(`/w/${slug}`))).not.toContain(`href="${base}"`);
  });
});
