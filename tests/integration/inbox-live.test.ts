import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signedIn, type Browser, type TestUser } from "../support/accounts";
import { seedConversation, seedInboxTeam } from "../support/inbox-seed";
import type { TestServer } from "../support/server";
import { makeTeam, startServer, type Team } from "../support/teams";

/**
 * The inbox's live updates through the real server: the SSE route, the presence route and the
 * visibility of events by role and team.
 */

type Members = "asha" | "ravi" | "mona";
let team: Team<Members>;
let outsider: TestUser;
let server: TestServer;
let browsers: Record<"owner" | Members | "outsider", Browser>;
let shared: number;
let teamBConversation: number;
const slug = "live-inbox";

interface SseClient {
  status: number;
  headers: Headers;
  text: () => string;
  /** Resolves with the time (ms since epoch) the text first matched; rejects after `ms`. */
  waitFor: (pattern: RegExp, ms?: number) => Promise<number>;
  close: () => void;
}

async function openEvents(browser: Browser, path = `/w/${slug}/inbox/events`): Promise<SseClient> {
  const abort = new AbortController();
  const res = await server.fetch(path, {
    headers: { cookie: browser.cookie, accept: "text/event-stream", "accept-encoding": "gzip" },
    signal: abort.signal,
  });
  let text = "";
  const waiters: { pattern: RegExp; resolve: (at: number) => void }[] = [];
  const check = () => {
    for (const w of [...waiters]) {
      if (w.pattern.test(text)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(Date.now());
      }
    }
  };
  void (async () => {
    const decoder = new TextDecoder();
    try {
      const reader = res.body!.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
        check();
      }
    } catch {
      // Aborted by close().
    }
  })();
  return {
    status: res.status,
    headers: res.headers,
    text: () => text,
    waitFor: (pattern, ms = 2_000) =>
      new Promise((resolve, reject) => {
        if (pattern.test(text)) return resolve(Date.now());
        waiters.push({ pattern, resolve });
        setTimeout(() => reject(new Error(`no ${pattern} within ${ms} ms in:\n${text}`)), ms);
      }),
    close: () => abort.abort(),
  };
}

const presence = (who: Browser, conversationId: number, intent: string) =>
  who.post(`/w/${slug}/inbox/${conversationId}/presence`, { intent });

beforeAll(async () => {
  team = await makeTeam({
    owner: "Olive Owner",
    workspace: { slug, name: "Live Inbox Shop" },
    members: {
      asha: { name: "Asha Agent", role: "agent" },
      ravi: { name: "Ravi Agent", role: "agent" },
      mona: { name: "Mona Marketer", role: "marketer" },
    },
  });
  seedInboxTeam(team.ctx, "Team A", [team.members.asha.id]);
  const teamB = seedInboxTeam(team.ctx, "Team B", [team.members.ravi.id]);
  shared = seedConversation(team.ctx);
  teamBConversation = seedConversation(team.ctx, { teamId: teamB });
  outsider = (await makeTeam({ owner: "Otto Outsider" })).owner;
  server = await startServer();
  browsers = {
    owner: await signedIn(server, team.owner),
    asha: await signedIn(server, team.members.asha),
    ravi: await signedIn(server, team.members.ravi),
    mona: await signedIn(server, team.members.mona),
    outsider: await signedIn(server, outsider),
  };
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

describe("the inbox event stream", () => {
  it("streams an event published after the client connected within a second, uncompressed", async () => {
    const owner = await openEvents(browsers.owner);
    expect(owner.status).toBe(200);
    expect(owner.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(owner.headers.get("content-encoding")).toBeNull();
    expect(owner.headers.get("x-accel-buffering")).toBe("no");
    await owner.waitFor(/: connected\n\n/);
    const posted = Date.now();
    expect((await presence(browsers.asha, shared, "viewing")).status).toBe(200);
    const arrived = await owner.waitFor(/event: presence\ndata: .*"name":"Asha Agent"/, 1_000);
    expect(arrived - posted).toBeLessThan(1_000);
    const data = /event: presence\ndata: (.*)\n\n/.exec(owner.text())![1]!;
    expect(JSON.parse(data)).toMatchObject({
      type: "presence",
      conversationId: shared,
      userId: team.members.asha.id,
      activity: "viewing",
    });
    owner.close();
  });

  it("tells an agent nothing about another team's conversations", async () => {
    const asha = await openEvents(browsers.asha);
    const owner = await openEvents(browsers.owner);
    await Promise.all([asha.waitFor(/connected/), owner.waitFor(/connected/)]);
    expect((await presence(browsers.ravi, teamBConversation, "viewing")).status).toBe(200);
    expect((await presence(browsers.ravi, shared, "viewing")).status).toBe(200);
    await owner.waitFor(
      new RegExp(`"conversationId":${shared},"userId":"${team.members.ravi.id}"`),
    );
    await asha.waitFor(new RegExp(`"conversationId":${shared},"userId":"${team.members.ravi.id}"`));
    expect(owner.text()).toContain(`"conversationId":${teamBConversation}`);
    expect(asha.text()).not.toContain(`"conversationId":${teamBConversation}`);
    asha.close();
    owner.close();
  });

  it("ends the request on the server when the client disconnects", async () => {
    const client = await openEvents(browsers.mona);
    await client.waitFor(/connected/);
    const before = server.logs.length;
    client.close();
    const deadline = Date.now() + 2_000;
    const closed = () =>
      server.logs
        .slice(before)
        .some((l) => l.msg === "request" && l.path === `/w/${slug}/inbox/events`);
    while (!closed() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(closed()).toBe(true);
  });

  it("sends a heartbeat comment every 15 s", { timeout: 25_000 }, async () => {
    const client = await openEvents(browsers.owner);
    await client.waitFor(/connected/);
    await client.waitFor(/: heartbeat \d+\n\n/, 17_000);
    client.close();
  });

  it("answers another workspace's member with a plain 404, without streaming", async () => {
    const res = await server.fetch(`/w/${slug}/inbox/events`, {
      headers: { cookie: browsers.outsider.cookie, accept: "text/event-stream" },
      signal: AbortSignal.timeout(3_000),
    });
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).not.toMatch(/event-stream/);
    expect(await res.text()).not.toContain("Live Inbox Shop");
  });
});

describe("presence", () => {
  it("lists who is present; replying needs inbox:reply", async () => {
    expect((await presence(browsers.asha, shared, "replying")).status).toBe(200);
    expect((await presence(browsers.mona, shared, "replying")).status).toBe(403);
    expect((await presence(browsers.mona, shared, "viewing")).status).toBe(200);
    const res = await browsers.owner.get(`/w/${slug}/inbox/${shared}/presence`);
    const body = (await res.json()) as { presence: { name: string; activity: string }[] };
    expect(body.presence).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: "Asha Agent", activity: "replying" }),
        expect.objectContaining({ name: "Mona Marketer", activity: "viewing" }),
      ]),
    );
    expect((await presence(browsers.asha, shared, "left")).status).toBe(200);
    const after = (await (
      await browsers.owner.get(`/w/${slug}/inbox/${shared}/presence`)
    ).json()) as {
      presence: { name: string }[];
    };
    expect(after.presence.map((p) => p.name)).not.toContain("Asha Agent");
  });

  it("is a 404 for another team's conversation, an unknown one, an unknown intent a 400", async () => {
    expect((await presence(browsers.asha, teamBConversation, "viewing")).status).toBe(404);
    expect((await browsers.asha.get(`/w/${slug}/inbox/${teamBConversation}/presence`)).status).toBe(
      404,
    );
    expect((await presence(browsers.owner, 987_654, "viewing")).status).toBe(404);
    expect((await presence(browsers.owner, shared, "shouting")).status).toBe(400);
    expect((await presence(browsers.outsider, shared, "viewing")).status).toBe(404);
  });
});

describe("shutdown", () => {
  it("ends open streams so the server stops promptly", async () => {
    const client = await openEvents(browsers.owner);
    await client.waitFor(/connected/);
    const started = Date.now();
    expect(await server.stop()).toBe(0);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
