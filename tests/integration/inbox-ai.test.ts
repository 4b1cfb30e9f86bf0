import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { WorkspaceContext } from "~/domain/context";
import { createSnippet, listSnippets } from "~/domain/ai/knowledge.server";
import { DRAFT_HISTORY_MESSAGES } from "~/domain/ai/draft-prompt.server";
import type { Workspace } from "~/domain/workspaces/workspaces.server";
import {
  createAnthropicFake,
  FAKE_ANTHROPIC_API_KEY,
  type AnthropicFake,
} from "../fakes/anthropic";
import type { Browser } from "../support/accounts";
import { seedConversation, setInboxAi } from "../support/ai-inbox";
import { textOf } from "../support/html";
import type { TestServer } from "../support/server";
import { makeTeam, signInAll, startServer } from "../support/teams";

/**
 * The inbox's AI over HTTP, on the real server with ANTHROPIC_* pointing at the fake: the
 * knowledge base page, "What the AI sees", and the conversation's AI resource route.
 */

let fake: AnthropicFake;
let server: TestServer;
let ctx: WorkspaceContext;
let a: Workspace;
let b: Workspace;
let people: Record<"owner" | "agent" | "marketer" | "viewer", Browser>;
let conversationId: number;
let otherConversation: number;
let snippetId: number;

const NAME_B = "Bravo Secret Teas";

beforeAll(async () => {
  fake = createAnthropicFake({ chunkSize: 4 });
  await fake.start();
  const team = await makeTeam({
    owner: "Alice Owner",
    workspace: { name: "Alpha Chai" },
    members: {
      agent: { name: "Arun Agent", role: "agent" },
      marketer: { name: "Mona Marketer", role: "marketer" },
      viewer: { name: "Vera Viewer", role: "viewer" },
    },
  });
  ({ ctx, workspace: a } = team);
  const teamB = await makeTeam({ owner: "Bob Owner", workspace: { name: NAME_B } });
  b = teamB.workspace;
  otherConversation = seedConversation(teamB.ctx, {
    messages: [{ from: "customer", text: "Secret question in B" }],
  }).conversationId;
  snippetId = createSnippet(ctx, {
    title: "Delivery days",
    body: "We deliver Monday to Saturday.",
  }).id;
  conversationId = seedConversation(ctx, {
    contact: { name: "Priya Raman", email: "priya@example.com", phone: "+919812345678" },
    messages: [{ from: "customer", text: "Do you deliver on Sunday?" }],
  }).conversationId;
  server = await startServer({
    env: {
      ANTHROPIC_API_KEY: FAKE_ANTHROPIC_API_KEY,
      ANTHROPIC_BASE_URL: fake.url,
      ANTHROPIC_TIMEOUT_MS: "1000",
      AI_INBOX_REQUESTS_PER_HOUR: "100",
    },
  });
  people = await signInAll(server, {
    owner: team.owner,
    agent: team.members.agent,
    marketer: team.members.marketer,
    viewer: team.members.viewer,
  });
}, 90_000);

beforeEach(() => {
  fake.respondWith(`No, we deliver Monday to Saturday.\nSources: ${snippetId}`);
  fake.clearCalls();
  setInboxAi(ctx, { aiEnabled: true });
});

afterAll(async () => {
  await server?.stop();
  await fake?.stop();
});

const kb = () => `/w/${a.slug}/settings/knowledge`;
const aiRoute = (id: number | string = conversationId, slug = a.slug) =>
  `/w/${slug}/inbox/${id}/ai`;

async function json(res: Response): Promise<Record<string, unknown>> {
  return (await res.json()) as Record<string, unknown>;
}

async function draftWhenSettled(browser: Browser): Promise<Record<string, unknown>> {
  for (let i = 0; i < 100; i++) {
    const state = await json(await browser.get(aiRoute()));
    const draft = state.draft as Record<string, unknown> | null;
    if (draft && draft.status !== "pending") return draft;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("the draft never settled");
}

describe("the knowledge base page", () => {
  it("lists, searches, adds, edits and deletes (with confirmation) for managers", async () => {
    const page = await textOf(await people.owner.get(kb()));
    expect(page).toContain("Knowledge base");
    expect(page).toContain("Delivery days");
    expect(page).toContain("Add a snippet");

    const add = await people.owner.post(kb(), {
      intent: "create",
      title: "Refunds",
      body: "Refunds within 7 days.",
    });
    expect(add.status).toBe(302);
    const found = await textOf(await people.owner.get(`${kb()}?q=refund+refunds`));
    expect(found).toContain("Refunds within 7 days.");
    expect(found).not.toContain("We deliver Monday");
    const none = await textOf(await people.owner.get(`${kb()}?q=zebra`));
    expect(none).toContain("No snippet matches");

    const bad = await people.owner.post(kb(), { intent: "create", title: "", body: "x" });
    expect(bad.status).toBe(400);
    expect(await textOf(bad)).toContain("Enter a title.");
    const long = await people.owner.post(kb(), {
      intent: "create",
      title: "Long",
      body: "x".repeat(4_001),
    });
    expect(long.status).toBe(400);
    expect(await textOf(long)).toContain("under 4,000 characters");

    const id = listSnippets(ctx).find((s) => s.title === "Refunds")!.id;
    const edit = await people.owner.post(kb(), {
      intent: "update",
      id: String(id),
      title: "Refunds and returns",
      body: "Refunds within 7 days of the return.",
    });
    expect(edit.status).toBe(302);
    const confirm = await textOf(await people.owner.get(`${kb()}?delete=${id}`));
    expect(confirm).toContain("Delete “Refunds and returns”?");
    expect((await people.owner.post(kb(), { intent: "delete", id: String(id) })).status).toBe(302);
    expect(await textOf(await people.owner.get(kb()))).not.toContain("Refunds and returns");
    expect((await people.owner.post(kb(), { intent: "delete", id: "999999" })).status).toBe(404);
  });

  it("agents and marketers read it but cannot change it; viewers cannot open it", async () => {
    const page = await textOf(await people.agent.get(kb()));
    expect(page).toContain("Delivery days");
    expect(page).not.toContain("Add a snippet");
    expect(page).not.toContain("Delete…");
    for (const browser of [people.agent, people.marketer]) {
      const res = await browser.post(kb(), { intent: "create", title: "Hijack", body: "x" });
      expect(res.status).toBe(403);
    }
    expect((await people.viewer.get(kb())).status).toBe(403);
  });
});

describe("What the AI sees", () => {
  it("states what is sent from the prompt builder's constants, the switch, usage and rates", async () => {
    const page = await textOf(await people.agent.get(`/w/${a.slug}/settings/ai`));
    expect(page).toContain(`The newest ${DRAFT_HISTORY_MESSAGES} messages of the conversation`);
    expect(page).toMatch(/Of the contact: email address, phone number/);
    expect(page).toContain("private notes");
    expect(page).toContain(`/w/${a.slug}/settings/inbox`);
    expect(page).toContain("AI in the inbox");
    expect(page).toContain("How drafts were used this month");
  });
});

describe("the conversation's AI route", () => {
  it("an agent asks for a draft: 202 at once, then ready with its citation; then discards it", async () => {
    const res = await people.agent.post(aiRoute(), { intent: "draft" });
    expect(res.status).toBe(202);
    const { draftId } = await json(res);
    const draft = await draftWhenSettled(people.agent);
    expect(draft).toMatchObject({
      id: draftId,
      status: "ready",
      body: "No, we deliver Monday to Saturday.",
      citations: [{ id: snippetId, title: "Delivery days" }],
    });
    const prompt = fake.calls[0]!.system + fake.calls[0]!.messages[0]!.text;
    expect(prompt).toContain("Do you deliver on Sunday?");
    expect(prompt).not.toContain("priya@example.com");
    expect(prompt).not.toContain("9812345678");

    const discarded = await people.agent.post(aiRoute(), {
      intent: "discard",
      draftId: String(draftId),
    });
    expect(discarded.status).toBe(200);
    expect((await json(discarded)).draft).toMatchObject({ status: "discarded" });
  });

  it("rewrites and summarises; bad input is a 400 with the field named", async () => {
    fake.respondWith("Thank you for your patience.");
    const rewrite = await people.agent.post(aiRoute(), {
      intent: "rewrite",
      text: "thx for waiting",
      mode: "formal",
    });
    expect(rewrite.status).toBe(200);
    expect(await json(rewrite)).toEqual({ text: "Thank you for your patience." });
    const summary = await people.owner.post(aiRoute(), { intent: "summary" });
    expect(summary.status).toBe(200);
    expect((await json(summary)).summary).toBe("Thank you for your patience.");
    const bad = await people.agent.post(aiRoute(), { intent: "rewrite", text: "hi", mode: "rude" });
    expect(bad.status).toBe(400);
    expect((await json(bad)).fieldErrors).toHaveProperty("mode");
  });

  it("works without JavaScript: plain forms come back to the page, the draft fills the reply box", async () => {
    const page = `/w/${a.slug}/inbox/${conversationId}`;
    const html = { accept: "text/html,application/xhtml+xml" };
    const asked = await people.agent.post(aiRoute(), { intent: "draft" }, html);
    expect(asked.status).toBe(303);
    expect(asked.headers.get("location")).toBe(page);
    const draft = await draftWhenSettled(people.agent);
    expect(draft.status).toBe("ready");

    // Server-rendered, as a browser without JavaScript sees it.
    const before = await textOf(await people.agent.get(page));
    expect(before).toContain("No, we deliver Monday to Saturday.");
    expect(before).toContain("Use this draft");
    const filled = await (await people.agent.get(`${page}?useDraft=${draft.id}`)).text();
    expect(filled).toMatch(/<textarea[^>]*name="text"[^>]*>No, we deliver Monday to Saturday\./);
    expect(filled).toContain(`name="draftId" value="${draft.id}"`);
    // Another draft's id fills nothing.
    const other = await (
      await people.agent.get(`${page}?useDraft=${Number(draft.id) + 99}`)
    ).text();
    expect(other).not.toMatch(/<textarea[^>]*name="text"[^>]*>No, we deliver/);

    const discarded = await people.agent.post(
      aiRoute(),
      { intent: "discard", draftId: String(draft.id) },
      html,
    );
    expect(discarded.status).toBe(303);
    expect((await json(await people.agent.get(aiRoute()))).draft).toMatchObject({
      status: "discarded",
    });

    // A refusal comes back as the page's notice, not as JSON.
    setInboxAi(ctx, { aiEnabled: false });
    const refused = await people.agent.post(aiRoute(), { intent: "draft" }, html);
    expect(refused.status).toBe(303);
    const flash = (refused.headers.get("set-cookie") ?? "").split(";")[0]!;
    const notice = await textOf(
      await people.agent.get(page, { cookie: `${people.agent.cookie}; ${flash}` }),
    );
    expect(notice).toMatch(/turned off for this workspace/);
  });

  it("AI off in the workspace: 409 with a clear message, nothing sent to Claude", async () => {
    setInboxAi(ctx, { aiEnabled: false });
    const res = await people.agent.post(aiRoute(), { intent: "draft" });
    expect(res.status).toBe(409);
    expect((await json(res)).message).toMatch(/turned off for this workspace/);
    expect(fake.calls).toHaveLength(0);
  });

  it("refuses marketers (read-only), a missing conversation, and another workspace's", async () => {
    expect((await people.marketer.post(aiRoute(), { intent: "draft" })).status).toBe(403);
    expect((await people.viewer.get(aiRoute())).status).toBe(403);
    const missing = await people.agent.post(aiRoute(987_654), { intent: "draft" });
    expect(missing.status).toBe(404);
    expect((await people.agent.get(aiRoute("x"))).status).toBe(404);
    const unknown = await people.agent.post(aiRoute(), { intent: "send" });
    expect(unknown.status).toBe(400);
    const res = await people.owner.post(aiRoute(otherConversation, b.slug), { intent: "summary" });
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain("Secret question");
    expect(fake.calls).toHaveLength(0);
  });
});
