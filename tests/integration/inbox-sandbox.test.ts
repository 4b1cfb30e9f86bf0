import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WorkspaceContext } from "~/domain/context";
import type { Browser } from "../support/accounts";
import { textOf } from "../support/html";
import type { TestServer } from "../support/server";
import { makeTeam, signInAll, startServer } from "../support/teams";

/**
 * "Try the inbox" on the inbox list page, through the real server without JavaScript: shown to
 * members who can reply while WhatsApp is the sandbox; the simulated message opens a conversation.
 */

let server: TestServer;
let ctx: WorkspaceContext;
let agent: Browser;
let marketer: Browser;
const slug = "inbox-sandbox";
const base = `/w/${slug}/inbox`;

beforeAll(async () => {
  const team = await makeTeam({
    owner: "Olivia Owner",
    workspace: { slug, name: "Sandbox Co", country: "IN" },
    members: {
      agent: { name: "Ava Agent", role: "agent" },
      marketer: { name: "Mira Marketer", role: "marketer" },
    },
  });
  ctx = team.ctx;
  server = await startServer();
  ({ agent, marketer } = await signInAll(server, {
    agent: team.members.agent,
    marketer: team.members.marketer,
  }));
});

afterAll(async () => {
  await server?.stop();
});

const conversationCount = () =>
  (ctx.db.$client.prepare("SELECT count(*) AS n FROM conversations").get() as { n: number }).n;

describe("Try the inbox", () => {
  it("is offered to members who can reply, marked as simulated", async () => {
    const page = await textOf(await agent.get(base));
    expect(page).toContain("Try the inbox");
    expect(page).toContain("Simulate customer message");
    expect(page).toContain("simulated");
    expect(await textOf(await marketer.get(base))).not.toContain("Simulate customer message");
  });

  it("opens a conversation the agent then sees in the list", async () => {
    const res = await agent.post(base, {
      intent: "simulate",
      phone: "98765 43210",
      name: "Ravi Kumar",
      message: "Do you deliver to Indiranagar?",
    });
    expect(res.status).toBe(302);
    expect(conversationCount()).toBe(1);
    const list = await textOf(await agent.get(base));
    expect(list).toContain("Ravi Kumar");
    expect(list).toContain("Do you deliver to Indiranagar?");
  });

  it("answers bad input with 400 and messages, and changes nothing", async () => {
    const badPhone = await agent.post(base, { intent: "simulate", phone: "12", message: "Hi" });
    expect(badPhone.status).toBe(400);
    expect(await textOf(badPhone)).toContain("not a");
    const noMessage = await agent.post(base, { intent: "simulate", phone: "98765 43299" });
    expect(noMessage.status).toBe(400);
    expect(await textOf(noMessage)).toContain("Write the customer's message.");
    const long = await agent.post(base, {
      intent: "simulate",
      phone: "98765 43299",
      message: "x".repeat(4097),
    });
    expect(long.status).toBe(400);
    expect(await textOf(long)).toContain("longer than 4096");
    expect(conversationCount()).toBe(1);
  });

  it("is refused to a marketer (no inbox:reply)", async () => {
    const res = await marketer.post(base, {
      intent: "simulate",
      phone: "98765 43288",
      message: "Hello",
    });
    expect(res.status).toBe(403);
    expect(conversationCount()).toBe(1);
  });
});
