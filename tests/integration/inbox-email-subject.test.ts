import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contacts } from "~/db/schema/tenant";
import { conversations } from "~/db/schema/tenant-inbox";
import type { WorkspaceContext } from "~/domain/context";
import {
  rotateInboundEmailSecret,
  signForwardedEmail,
} from "~/domain/delivery/inbound-email-secret.server";
import { receiveInboundEmail } from "~/domain/delivery/inbound-email.server";
import { processWebhookEvents } from "~/domain/delivery/webhooks.server";
import { rawEmail } from "../fakes/ses-inbound";
import type { Browser } from "../support/accounts";
import type { TestServer } from "../support/server";
import { makeTeam, signInAll, startServer } from "../support/teams";

/**
 * The conversation page of an email conversation pre-fills the reply's subject as the
 * customer's mail client expects it: "Re: <their subject>", prefixes not stacked.
 */

let server: TestServer;
let ctx: WorkspaceContext;
let agent: Browser;
const slug = "inbox-email-subject";

beforeAll(async () => {
  const team = await makeTeam({
    owner: "Olga Owner",
    workspace: { slug, name: "Threads Co" },
    members: { agent: { name: "Amit Agent", role: "agent" } },
  });
  ctx = team.ctx;
  const secret = rotateInboundEmailSecret(ctx);
  const body = rawEmail({
    from: "Asha <asha@example.com>",
    to: "help@shop.example",
    subject: "RE: Re: Order 1042 not delivered",
    text: "Where is my parcel?",
  });
  const timestamp = String(Math.floor(Date.now() / 1000));
  const answer = await receiveInboundEmail("forward", {
    method: "POST",
    url: `https://engage.test/webhooks/inbound-email/forward?workspace=${ctx.workspaceId}`,
    headers: {
      "webhook-id": "msg_subject1",
      "webhook-timestamp": timestamp,
      "webhook-signature": signForwardedEmail(secret, "msg_subject1", timestamp, body),
    },
    body,
  });
  expect(answer.status).toBe(200);
  await processWebhookEvents(ctx.workspaceId);
  server = await startServer();
  ({ agent } = await signInAll(server, { agent: team.members.agent }));
}, 90_000);

afterAll(async () => {
  await server?.stop();
});

describe("email conversation page", () => {
  it("pre-fills Re: <their subject> in the reply's Subject field", async () => {
    const id = ctx.db
      .select({ id: conversations.id })
      .from(conversations)
      .innerJoin(contacts, eq(contacts.id, conversations.contactId))
      .where(eq(contacts.email, "asha@example.com"))
      .get()!.id;
    const res = await agent.get(`/w/${slug}/inbox/${id}`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toMatch(/id="reply-subject"[^>]*value="Re: Order 1042 not delivered"/);
  });
});
