import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readAiCopyStream, type AiCopyStreamEvent } from "~/components/ai-writer";
import { createContact } from "~/domain/contacts/contacts.server";
import type { Workspace } from "~/domain/workspaces/workspaces.server";
import {
  createAnthropicFake,
  FAKE_ANTHROPIC_API_KEY,
  type AnthropicFake,
} from "../fakes/anthropic";
import { createWorkspaceFor, signedIn, type Browser, type TestUser } from "../support/accounts";
import type { TestServer } from "../support/server";
import { makeTeam, startServer } from "../support/teams";

/**
 * "Write with AI" over HTTP: the real server (production build) with ANTHROPIC_* pointing at
 * the Anthropic fake, people signed in through /login, the answer read as an event stream.
 */

const REPLY = "Chai time! 20% off\n---\nDiwali chai deals inside\n---\nYour festive cup awaits";
const BRIEF = "Diwali offer: 20% off all teas until Sunday";
const CONTACT_NAME = "Zephyrine Quillfeather";
const CONTACT_EMAIL = "zephyrine.q@example.com";
const NAME_A = "Alpha Chai House";
const NAME_B = "Bravo Secret Teas";

let fake: AnthropicFake;
let server: TestServer;
let owner: TestUser;
let viewer: TestUser;
let a: Workspace;
let b: Workspace;
let limited: Workspace;
let alice: Browser;

interface StreamEvent {
  type: string;
  text?: string;
  suggestions?: string[];
  checks?: { characters: number; limit: number; withinLimit: boolean }[];
  message?: string;
}

function parseEvents(text: string): StreamEvent[] {
  return text
    .split("\n\n")
    .filter((block) => block.startsWith("data: "))
    .map((block) => JSON.parse(block.slice(6)) as StreamEvent);
}

const fields = (overrides: Record<string, string> = {}) => ({
  channel: "sms",
  brief: BRIEF,
  tone: "Festive",
  language: "Hinglish",
  ...overrides,
});

beforeAll(async () => {
  fake = createAnthropicFake({ reply: REPLY, chunkSize: 5 });
  await fake.start();
  const team = await makeTeam({
    owner: "Alice Owner",
    workspace: { name: NAME_A },
    members: { viewer: { name: "Vera Viewer", role: "viewer" } },
  });
  const { ctx } = team;
  ({ owner, workspace: a } = team);
  viewer = team.members.viewer;
  ({ workspace: b } = await makeTeam({ owner: "Bob Owner", workspace: { name: NAME_B } }));
  limited = createWorkspaceFor(owner, { name: "Limited Chai" });
  createContact(ctx, { name: CONTACT_NAME, email: CONTACT_EMAIL });
  server = await startServer({
    env: {
      ANTHROPIC_API_KEY: FAKE_ANTHROPIC_API_KEY,
      ANTHROPIC_BASE_URL: fake.url,
      AI_REQUESTS_PER_HOUR: "3",
    },
  });
  alice = await signedIn(server, owner);
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await fake?.stop();
});

describe("POST /w/:slug/ai/copy", () => {
  it("streams Claude's text as deltas, then the three suggestions", async () => {
    fake.clearRequests();
    const res = await alice.post(`/w/${a.slug}/ai/copy`, fields());
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(res.headers.get("cache-control")).toContain("no-transform");
    expect(res.headers.get("content-encoding")).toBeNull();
    // Read the way the AI writer component reads it.
    const events: AiCopyStreamEvent[] = [];
    await readAiCopyStream(res.body!, (e) => events.push(e));
    const deltas = events.flatMap((e) => (e.type === "delta" ? [e.text] : []));
    expect(deltas.length).toBeGreaterThan(3);
    expect(deltas.join("")).toBe(REPLY);
    expect(events.at(-1)).toEqual({
      type: "done",
      suggestions: ["Chai time! 20% off", "Diwali chai deals inside", "Your festive cup awaits"],
      checks: [
        { characters: 18, limit: 160, withinLimit: true, sms: { encoding: "GSM-7", segments: 1 } },
        { characters: 24, limit: 160, withinLimit: true, sms: { encoding: "GSM-7", segments: 1 } },
        { characters: 23, limit: 160, withinLimit: true, sms: { encoding: "GSM-7", segments: 1 } },
      ],
    });

    // What went to Claude: the brief and the workspace's name, no contact.
    const sent = fake.requests.filter((r) => r.path === "/v1/messages");
    expect(sent).toHaveLength(1);
    expect(sent[0]!.body).toContain(BRIEF);
    expect(sent[0]!.body).toContain(NAME_A);
    for (const value of [CONTACT_NAME, "Zephyrine", CONTACT_EMAIL]) {
      expect(sent[0]!.body).not.toContain(value);
    }
  });

  it("answers invalid input with 400 JSON before streaming", async () => {
    const res = await alice.post(`/w/${a.slug}/ai/copy`, fields({ brief: "Hi" }));
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toMatch(/application\/json/);
    expect(await res.json()).toMatchObject({
      code: "validation_failed",
      fieldErrors: { brief: ["Describe the message in at least 5 characters."] },
    });
  });

  it("turns a provider failure after the stream started into an error event", async () => {
    fake.overloaded({ times: 2 });
    const res = await alice.post(`/w/${a.slug}/ai/copy`, fields());
    expect(res.status).toBe(200);
    expect(parseEvents(await res.text())).toEqual([
      { type: "error", message: "Claude is busy, try again in a minute.", code: "ai_unavailable" },
    ]);
  });

  it("limits each workspace to AI_REQUESTS_PER_HOUR: 429 JSON with Retry-After", async () => {
    for (let i = 0; i < 3; i++) {
      const ok = await alice.post(`/w/${limited.slug}/ai/copy`, fields());
      expect(ok.status).toBe(200);
      await ok.text();
    }
    const res = await alice.post(`/w/${limited.slug}/ai/copy`, fields());
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(3000);
    expect(await res.json()).toMatchObject({
      code: "rate_limited",
      message: expect.stringContaining("3 AI writing requests for this hour") as unknown,
    });
  });

  it("is only for members who may write campaigns, in their own workspace", async () => {
    fake.clearRequests();
    const intruder = await alice.post(`/w/${b.slug}/ai/copy`, fields());
    expect([403, 404]).toContain(intruder.status);
    expect(await intruder.text()).not.toContain(NAME_B);

    const vera = await signedIn(server, viewer);
    const forbidden = await vera.post(`/w/${a.slug}/ai/copy`, fields());
    expect(forbidden.status).toBe(403);
    expect(fake.requests).toHaveLength(0);

    const anonymous = await server.fetch(`/w/${a.slug}/ai/copy`, {
      method: "POST",
      headers: { origin: server.url, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields()).toString(),
    });
    expect(anonymous.status).toBe(302);
  });

  it("refuses a cross-site POST (origin guard)", async () => {
    const res = await alice.post(`/w/${a.slug}/ai/copy`, fields(), {
      origin: "https://evil.example",
    });
    expect(res.status).toBe(403);
  });
});

describe("GET /w/:slug/ai/copy", () => {
  it("says whether AI writing is available; other methods are 405", async () => {
    const res = await alice.get(`/w/${a.slug}/ai/copy`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ configured: true, requestsPerHour: 3 });
    const put = await server.fetch(`/w/${a.slug}/ai/copy`, {
      method: "PUT",
      headers: { cookie: alice.cookie, origin: server.url },
    });
    expect(put.status).toBe(405);
  });
});

describe("without ANTHROPIC_API_KEY", () => {
  it("answers 409 JSON 'not configured', never a 500", async () => {
    await server.stop();
    server = await startServer({
      env: { ANTHROPIC_BASE_URL: fake.url },
    });
    const browser = await signedIn(server, owner);
    const status = await browser.get(`/w/${a.slug}/ai/copy`);
    expect(await status.json()).toMatchObject({ configured: false });
    fake.clearRequests();
    const res = await browser.post(`/w/${a.slug}/ai/copy`, fields());
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({
      code: "ai_not_configured",
      message: "AI writing is not configured on this server: set ANTHROPIC_API_KEY.",
    });
    expect(fake.requests).toHaveLength(0);
  }, 60_000);
});
