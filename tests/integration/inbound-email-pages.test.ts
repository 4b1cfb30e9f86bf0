import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inboundMessages } from "~/db/schema/tenant";
import type { WorkspaceContext } from "~/domain/context";
import { signForwardedEmail } from "~/domain/delivery/inbound-email-secret.server";
import { rawEmail } from "../fakes/ses-inbound";
import type { Browser, TestUser } from "../support/accounts";
import { textOf } from "../support/html";
import type { TestServer } from "../support/server";
import { makeTeam, signInAll, startServer } from "../support/teams";

/**
 * The inbound email settings page and the forwarder webhook through the real server: the
 * secret is generated and shown once, and mail signed with it is taken at
 * /webhooks/inbound-email/forward.
 */

let server: TestServer;
let owner: TestUser;
let viewerUser: TestUser;
let ctx: WorkspaceContext;
let alice: Browser;
let viewer: Browser;
const slug = "inbound-email-pages";
const page = `/w/${slug}/settings/inbound-email`;

function post(path: string, body: Buffer, headers: Record<string, string>) {
  return server.fetch(path, {
    method: "POST",
    headers: { "content-type": "message/rfc822", ...headers },
    body: new Uint8Array(body),
  });
}

function sign(secret: string, body: Buffer) {
  const timestamp = String(Math.floor(Date.now() / 1000));
  return {
    "webhook-id": "evt_1",
    "webhook-timestamp": timestamp,
    "webhook-signature": signForwardedEmail(secret, "evt_1", timestamp, body),
  };
}

beforeAll(async () => {
  const team = await makeTeam({
    owner: "Olivia Owner",
    workspace: { slug, name: "Inbound Co", country: "IN" },
    members: { viewer: { name: "Victor Viewer", role: "viewer" } },
  });
  ({ owner, ctx } = team);
  viewerUser = team.members.viewer;
  server = await startServer();
  ({ alice, viewer } = await signInAll(server, { alice: owner, viewer: viewerUser }));
}, 90_000);

afterAll(async () => {
  await server?.stop();
});

describe("inbound email settings", () => {
  it("shows the forwarder URL and that no secret exists yet; the webhook refuses everything", async () => {
    const res = await alice.get(page);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const html = await textOf(res);
    expect(html).toContain(`/webhooks/inbound-email/forward?workspace=${ctx.workspaceId}`);
    expect(html).toContain("No signing secret yet");
    const body = rawEmail({ from: "a@example.com", to: "hello@shop.example", text: "hi" });
    const refused = await post(
      `/webhooks/inbound-email/forward?workspace=${ctx.workspaceId}`,
      body,
      sign("whsec_AAAA", body),
    );
    expect(refused.status).toBe(401);
  });

  it("is closed to members without workspace settings", async () => {
    expect((await viewer.get(page)).status).toBe(403);
    expect((await viewer.post(page, { intent: "rotate" })).status).toBe(403);
  });

  it("generates a secret shown once, and the real server takes mail signed with it", async () => {
    const res = await alice.post(page, { intent: "rotate" });
    expect(res.status).toBe(200);
    const html = await textOf(res);
    const secret = /whsec_[A-Za-z0-9+/=]+/.exec(html)?.[0];
    expect(secret).toBeTruthy();
    const again = await textOf(await alice.get(page));
    expect(again).not.toContain(secret!);
    expect(again).toContain("A signing secret is set");

    const body = rawEmail({
      from: "Priya <priya@example.com>",
      to: "hello@shop.example",
      text: "Where is my order?\r\n\r\nOn Mon, Shop wrote:\r\n> Thanks for your order",
    });
    const path = `/webhooks/inbound-email/forward?workspace=${ctx.workspaceId}`;
    const ok = await post(path, body, sign(secret!, body));
    expect(ok.status).toBe(200);
    let rows = ctx.db.select().from(inboundMessages).all();
    for (let i = 0; i < 50 && rows.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      rows = ctx.db.select().from(inboundMessages).all();
    }
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      channel: "email",
      sender: "priya@example.com",
      text: "Where is my order?",
    });
  });

  it("saves and removes the Mailgun signing key, refusing a bad one with a 400", async () => {
    const bad = await alice.post(page, { intent: "mailgun-save", signingKey: "short" });
    expect(bad.status).toBe(400);
    expect(await textOf(bad)).toContain("Enter the Mailgun HTTP webhook signing key.");
    const saved = await alice.post(page, {
      intent: "mailgun-save",
      signingKey: "key-0123456789abcdef",
    });
    expect(saved.status).toBe(302);
    const html = await textOf(await alice.get(page));
    expect(html).toContain("A Mailgun signing key is saved");
    expect(html).not.toContain("key-0123456789abcdef");
    expect(html).toContain(`/webhooks/inbound-email/${ctx.workspaceId}.mime`);
    expect((await alice.post(page, { intent: "mailgun-remove" })).status).toBe(302);
    expect(await textOf(await alice.get(page))).toContain("No Mailgun signing key");
  });

  it("answers an unknown intent with a 4xx", async () => {
    const res = await alice.post(page, { intent: "explode" });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  });
});
