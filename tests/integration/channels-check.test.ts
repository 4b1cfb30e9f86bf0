import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getControlDb } from "~/db/control.server";
import { integrations } from "~/db/schema/control";
import { systemContext } from "~/domain/context";
import { listIntegrations, saveIntegration } from "~/domain/delivery/integrations.server";
import type { Workspace } from "~/domain/workspaces/workspaces.server";
import type { Browser, TestUser } from "../support/accounts";
import { createWhatsAppFake, type WhatsAppFake } from "../fakes/whatsapp";
import type { TestServer } from "../support/server";
import { textOf } from "../support/html";
import { makeTeam, signInAll, startServer } from "../support/teams";

/**
 * Settings → Channels tells the truth: saving runs the connection check against the provider
 * (the Meta fake), and the badge says "Connected" only after a check passed on the credentials
 * as saved; a failed check names the part that failed, in plain words, with Meta's code on a
 * details line; credentials changed since the check are "Not checked". Another workspace's
 * integration is not found here.
 */

const slug = "channels-check";
const otherSlug = "channels-check-other";
const page = `/w/${slug}/settings/channels`;

const NUMBER = {
  phoneNumberId: "106540352242922",
  accessToken: "EAAG-right-token-for-channels-check",
  wabaId: "102290129340398",
  displayPhoneNumber: "+91 98765 43210",
  verifiedName: "Chai Corner",
  tier: "TIER_1K",
  qualityRating: "GREEN",
};

const WHATSAPP = {
  intent: "save",
  provider: "whatsapp",
  phoneNumberId: NUMBER.phoneNumberId,
  wabaId: NUMBER.wabaId,
  accessToken: "EAAG-expired-token-0000",
  appSecret: "app-secret-for-channels-check",
  verifyToken: "chai-corner-verify-1234",
  messagingTier: "TIER_1K",
  ratePerSecond: "",
};

let fake: WhatsAppFake;
let server: TestServer;
let owner: TestUser;
let outsider: TestUser;
let workspace: Workspace;
let other: Workspace;
let alice: Browser;
let omar: Browser;

/** Follows a redirect the way a browser does, carrying the flash cookie it set. */
async function follow(browser: Browser, res: Response): Promise<string> {
  expect(res.status).toBe(302);
  const flash = (res.headers.get("set-cookie") ?? "").split(";")[0]!;
  return textOf(
    await browser.get(res.headers.get("location")!, { cookie: `${browser.cookie}; ${flash}` }),
  );
}

function whatsappRow() {
  return getControlDb()
    .select()
    .from(integrations)
    .where(and(eq(integrations.workspaceId, workspace.id), eq(integrations.channel, "whatsapp")))
    .get();
}

/** The WhatsApp card's heading: its label and badge. */
function badgeOf(html: string): string | undefined {
  return /<h2 id="channel-whatsapp-heading"[^>]*>WhatsApp <span class="badge[^"]*">([^<]+)<\/span>/.exec(
    html,
  )?.[1];
}

beforeAll(async () => {
  fake = createWhatsAppFake({ numbers: [NUMBER] });
  await fake.start();
  ({ owner, workspace } = await makeTeam({
    owner: "Chitra Owner",
    workspace: { slug, name: "Chai Corner" },
  }));
  ({ owner: outsider, workspace: other } = await makeTeam({
    owner: "Omar Outsider",
    workspace: { slug: otherSlug, name: "Other Shop" },
  }));
  server = await startServer({
    env: { WHATSAPP_API_BASE_URL: fake.url, PROVIDER_TIMEOUT_MS: "3000" },
  });
  ({ alice, omar } = await signInAll(server, { alice: owner, omar: outsider }));
}, 90_000);

afterAll(async () => {
  await server?.stop();
  await fake?.stop();
});

describe("Settings → Channels: the connection check", () => {
  it("offers a guided WhatsApp setup, a suggested verify token and limits in words", async () => {
    const html = await textOf(await alice.get(page));
    expect(html).toContain("What you need from Meta");
    expect(html).toContain("WhatsApp → API Setup");
    expect(html).toContain("System users");
    expect(html).toMatch(/name="verifyToken"[^>]*type="text"|type="text"[^>]*name="verifyToken"/);
    expect(html).toMatch(/name="verifyToken"[^>]*value="[A-Za-z0-9_-]{24}"/);
    expect(html).toContain(">1,000 customers / 24\u00a0h</option>");
    expect(html).toContain(">Unlimited</option>");
    expect(html).not.toContain(">TIER_1K<");
    expect(badgeOf(html)).toBe("Sandbox");
  });

  it("saving a token Meta refuses stores the integration with a failed check, in plain words", async () => {
    const html = await follow(alice, await alice.post(page, WHATSAPP));
    // The flash says it at once.
    expect(html).toContain("WhatsApp check failed at “Access token and phone number ID”");
    expect(badgeOf(html)).toBe("Check failed");
    expect(html).toContain("The check failed at: Access token and phone number ID");
    expect(html).toContain("Meta no longer accepts the access token");
    expect(html).toContain("permanent access token for a system user");
    expect(html).toMatch(/Details: <code>WhatsApp 190: /);
    const row = whatsappRow()!;
    expect(row).toMatchObject({
      lastCheckOk: false,
      lastCheckStep: "Access token and phone number ID",
    });
    expect(row.lastCheckDetail).toMatch(/^WhatsApp 190: /);

    // Across page loads too: the stored check drives the badge.
    expect(badgeOf(await textOf(await alice.get(page)))).toBe("Check failed");
  });

  it("names the WhatsApp Business Account ID when only that one is wrong", async () => {
    const html = await follow(
      alice,
      await alice.post(`${page}?edit=whatsapp`, {
        ...WHATSAPP,
        accessToken: NUMBER.accessToken,
        wabaId: "999999999999999",
        appSecret: WHATSAPP.appSecret,
      }),
    );
    expect(badgeOf(html)).toBe("Check failed");
    expect(html).toContain("The check failed at: WhatsApp Business Account ID");
    expect(whatsappRow()).toMatchObject({
      lastCheckOk: false,
      lastCheckStep: "WhatsApp Business Account ID",
    });
  });

  it("is Connected once the check passes, with the webhook URL and verify token to copy", async () => {
    const html = await follow(
      alice,
      await alice.post(`${page}?edit=whatsapp`, {
        ...WHATSAPP,
        accessToken: NUMBER.accessToken,
      }),
    );
    expect(badgeOf(html)).toBe("Connected");
    expect(html).toContain("WhatsApp is connected: +91 98765 43210 (Chai Corner)");
    expect(html).toContain("messaging limit 1,000 customers / 24\u00a0h, quality high");
    expect(html).toContain("The connection works");
    expect(html).not.toContain(NUMBER.accessToken);
    const id = whatsappRow()!.id;
    expect(html).toMatch(
      new RegExp(`<input[^>]*readonly=""[^>]*value="[^"]*/webhooks/whatsapp/${id}"`),
    );
    expect(html).toMatch(/<input[^>]*readonly=""[^>]*value="chai-corner-verify-1234"/);
    expect(html).toContain("<dt>Messaging limit</dt><dd>1,000 customers / 24\u00a0h</dd>");
    expect(whatsappRow()).toMatchObject({ lastCheckOk: true, lastCheckStep: null });
  });

  it("credentials changed after the check are Not checked until checked again", async () => {
    // Saved outside the page (as the CLI does): no check runs.
    await new Promise((resolve) => setTimeout(resolve, 5));
    saveIntegration(systemContext("test"), workspace.id, "whatsapp", {
      ...WHATSAPP,
      accessToken: NUMBER.accessToken,
      ratePerSecond: "20",
    });
    let html = await textOf(await alice.get(page));
    expect(badgeOf(html)).toBe("Not checked");
    expect(html).toContain("The settings changed after the last check.");

    const id = whatsappRow()!.id;
    html = await follow(alice, await alice.post(page, { intent: "test", integrationId: id }));
    expect(html).toContain("WhatsApp is connected");
    expect(badgeOf(html)).toBe("Connected");
  });

  it("another workspace's integration is not found here, and its check is untouched", async () => {
    saveIntegration(systemContext("test"), other.id, "whatsapp", {
      ...WHATSAPP,
      accessToken: NUMBER.accessToken,
      ratePerSecond: undefined,
    });
    const theirs = listIntegrations(other.id)[0]!;
    expect(theirs.lastCheckedAt).toBeNull();

    const test = await alice.post(page, { intent: "test", integrationId: theirs.id });
    expect(test.status).toBe(404);
    const remove = await alice.post(page, { intent: "disconnect", integrationId: theirs.id });
    expect(remove.status).toBe(404);
    expect(listIntegrations(other.id)[0]).toMatchObject({ id: theirs.id, lastCheckedAt: null });
    const confirm = await textOf(await alice.get(`${page}?disconnect=${theirs.id}`));
    expect(confirm).toContain("That channel is not connected (any more).");

    // The outsider cannot open this workspace's channels at all, nor check its integration.
    const mine = whatsappRow()!;
    expect((await omar.get(page)).status).toBe(404);
    expect((await omar.post(page, { intent: "test", integrationId: mine.id })).status).toBe(404);
    expect(whatsappRow()!.lastCheckedAt).toEqual(mine.lastCheckedAt);
  });
});
