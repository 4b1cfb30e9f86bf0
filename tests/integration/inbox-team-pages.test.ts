import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inboundMessages } from "~/db/schema/tenant";
import {
  agentStates,
  conversationActivity,
  conversationLabels,
  conversations,
  labels,
  teamMembers,
  teams,
} from "~/db/schema/tenant-inbox";
import type { WorkspaceContext } from "~/domain/context";
import { conversationForInbound, linkInbound } from "~/domain/inbox/conversations.server";
import type { Browser } from "../support/accounts";
import { insertContact } from "../support/contacts";
import { textOf } from "../support/html";
import type { TestServer } from "../support/server";
import { makeTeam, signInAll, startServer } from "../support/teams";

/**
 * The inbox's team side through the real server, without JavaScript: the conversation page's
 * sidebar (assignment, labels, private notes), the list's "For you" and availability, and the
 * AI route's team scoping.
 */

let server: TestServer;
let ctx: WorkspaceContext;
let owner: Browser;
let agentA: Browser;
let agentB: Browser;
let marketer: Browser;
let ids: Record<"owner" | "agentA" | "agentB", string>;
const slug = "inbox-team-pages";
const base = `/w/${slug}/inbox`;
let salesConv: number;
let salesTeam: number;
let vip: number;

function customerWrites(name: string, phone: string, text: string) {
  const contactId = insertContact(ctx.db, { name, phone });
  const at = new Date();
  return ctx.db.transaction(() => {
    const row = ctx.db
      .insert(inboundMessages)
      .values({
        contactId,
        channel: "sms",
        integrationId: null,
        sender: phone,
        text,
        providerMessageId: `seed-${phone}`,
        at,
      })
      .returning({ id: inboundMessages.id })
      .get();
    const { conversationId } = conversationForInbound(ctx.db, {
      contactId,
      channel: "sms",
      integrationId: null,
      at,
      preview: text,
      reopenWithinDays: 7,
    });
    linkInbound(ctx.db, row.id, conversationId, null);
    return conversationId;
  });
}

const conv = () =>
  ctx.db.select().from(conversations).where(eq(conversations.id, salesConv)).get()!;

beforeAll(async () => {
  const team = await makeTeam({
    owner: "Olivia Owner",
    workspace: { slug, name: "Inbox Team Co", country: "IN" },
    members: {
      agentA: { name: "Ava Agent", role: "agent" },
      agentB: { name: "Ben Agent", role: "agent" },
      marketer: { name: "Mira Marketer", role: "marketer" },
    },
  });
  ctx = team.ctx;
  ids = { owner: team.owner.id, agentA: team.members.agentA.id, agentB: team.members.agentB.id };
  salesConv = customerWrites("Asha Rao", "+919800000401", "Where is my order?");
  const created = new Date();
  salesTeam = ctx.db
    .insert(teams)
    .values({ name: "Sales", createdAt: created })
    .returning()
    .get().id;
  const support = ctx.db
    .insert(teams)
    .values({ name: "Support", createdAt: created })
    .returning()
    .get().id;
  ctx.db.insert(teamMembers).values({ teamId: salesTeam, userId: ids.agentA }).run();
  ctx.db.insert(teamMembers).values({ teamId: support, userId: ids.agentB }).run();
  ctx.db
    .update(conversations)
    .set({ teamId: salesTeam })
    .where(eq(conversations.id, salesConv))
    .run();
  vip = ctx.db
    .insert(labels)
    .values({ name: "VIP", color: "green", createdAt: created })
    .returning()
    .get().id;
  server = await startServer();
  ({ owner, agentA, agentB, marketer } = await signInAll(server, {
    owner: team.owner,
    agentA: team.members.agentA,
    agentB: team.members.agentB,
    marketer: team.members.marketer,
  }));
}, 90_000);

afterAll(async () => {
  await server?.stop();
});

describe("the conversation page's sidebar", () => {
  it("shows the assignment, labels and notes forms to members who can reply", async () => {
    const page = await textOf(await agentA.get(`${base}/${salesConv}`));
    for (const text of [
      "Assign to me",
      ">Assign<",
      "Set team",
      "Add label",
      "Private note",
      "Add note",
    ]) {
      expect(page).toContain(text);
    }
    const readOnly = await textOf(await marketer.get(`${base}/${salesConv}`));
    expect(readOnly).not.toContain("Assign to me");
    expect(readOnly).not.toContain("Add note");
  });

  it("assigns, assigns to me, and refuses an assignee outside the team with a message", async () => {
    const outside = await owner.post(`${base}/${salesConv}`, {
      intent: "assign",
      assigneeId: ids.agentB,
    });
    expect(outside.status).toBe(400);
    expect(await textOf(outside)).toContain("not in the conversation");
    expect(conv().assigneeId).toBeNull();
    expect((await agentA.post(`${base}/${salesConv}`, { intent: "assign-me" })).status).toBe(302);
    expect(conv().assigneeId).toBe(ids.agentA);
    expect(await textOf(await agentA.get(`${base}/${salesConv}`))).not.toContain("Assign to me");
    expect(
      (await owner.post(`${base}/${salesConv}`, { intent: "assign", assigneeId: "" })).status,
    ).toBe(302);
    expect(conv().assigneeId).toBeNull();
  });

  it("an agent of another team gets a 404 for the page, its actions and the AI route", async () => {
    expect((await agentB.get(`${base}/${salesConv}`)).status).toBe(404);
    expect((await agentB.post(`${base}/${salesConv}`, { intent: "assign-me" })).status).toBe(404);
    expect((await agentB.post(`${base}/${salesConv}`, { intent: "note", body: "hi" })).status).toBe(
      404,
    );
    expect((await agentB.get(`${base}/${salesConv}/ai`)).status).toBe(404);
    for (const intent of ["draft", "summary", "discard"]) {
      const res = await agentB.post(`${base}/${salesConv}/ai`, { intent, draftId: "1" });
      expect(res.status).toBe(404);
    }
    const rewrite = await agentB.post(`${base}/${salesConv}/ai`, {
      intent: "rewrite",
      text: "hi",
      mode: "shorten",
    });
    expect(rewrite.status).toBe(404);
    expect(conv().assigneeId).toBeNull();
    // Their own team's agent reaches the AI route (whatever the AI's state).
    expect((await agentA.get(`${base}/${salesConv}/ai`)).status).toBe(200);
  });

  it("adds and removes a label, and moves the conversation to a team", async () => {
    expect(
      (await agentA.post(`${base}/${salesConv}`, { intent: "label-add", labelId: String(vip) }))
        .status,
    ).toBe(302);
    const page = await textOf(await agentA.get(`${base}/${salesConv}`));
    expect(page).toContain('aria-label="Remove label VIP"');
    const again = await agentA.post(`${base}/${salesConv}`, {
      intent: "label-add",
      labelId: String(vip),
    });
    expect(again.status).toBe(409);
    await agentA.post(`${base}/${salesConv}`, { intent: "label-remove", labelId: String(vip) });
    expect(ctx.db.select().from(conversationLabels).all()).toEqual([]);
    expect((await owner.post(`${base}/${salesConv}`, { intent: "team", teamId: "" })).status).toBe(
      302,
    );
    expect(conv().teamId).toBeNull();
    await owner.post(`${base}/${salesConv}`, { intent: "team", teamId: String(salesTeam) });
    expect(conv().teamId).toBe(salesTeam);
    expect(
      (await owner.post(`${base}/${salesConv}`, { intent: "team", teamId: "99999" })).status,
    ).toBe(404);
  });

  it("a note with a mention shows in the thread and under For you until opened", async () => {
    const res = await owner.post(`${base}/${salesConv}`, {
      intent: "note",
      body: "@Ava Agent please call her back",
    });
    expect(res.status).toBe(302);
    expect(await textOf(await owner.get(`${base}/${salesConv}`))).toContain("please call her back");
    const list = await textOf(await agentA.get(base));
    expect(list).toContain("Olivia Owner mentioned you on Asha Rao");
    await agentA.get(`${base}/${salesConv}`);
    expect(await textOf(await agentA.get(base))).toContain("Nothing new");
    const empty = await owner.post(`${base}/${salesConv}`, { intent: "note", body: " " });
    expect(empty.status).toBe(400);
    expect(await textOf(empty)).toContain("Write the note first.");
    const notes = ctx.db
      .select()
      .from(conversationActivity)
      .where(eq(conversationActivity.kind, "note"))
      .all();
    expect(notes).toHaveLength(1);
  });
});

describe("the inbox list", () => {
  it("records the agent as seen, and saves their availability", async () => {
    const state = () =>
      ctx.db.select().from(agentStates).where(eq(agentStates.userId, ids.agentB)).get();
    const page = await textOf(await agentB.get(base));
    expect(page).toContain("Available for new conversations");
    expect(state()?.lastSeenAt).toBeTruthy();
    expect(state()?.available).toBe(false);
    expect((await agentB.post(base, { intent: "availability", available: "on" })).status).toBe(302);
    expect(state()?.available).toBe(true);
    await agentB.post(base, { intent: "availability" });
    expect(state()?.available).toBe(false);
    expect(await textOf(await marketer.get(base))).not.toContain("Available for new conversations");
    expect((await marketer.post(base, { intent: "availability", available: "on" })).status).toBe(
      403,
    );
  });
});
