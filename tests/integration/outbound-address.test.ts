import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listIntegrations, saveIntegration } from "~/domain/delivery/integrations.server";
import { openWorkspaceContext } from "~/domain/workspaces/access.server";
import type { Workspace } from "~/domain/workspaces/workspaces.server";
import { signedIn, type Browser, type TestUser } from "../support/accounts";
import type { TestServer } from "../support/server";
import { textOf } from "../support/html";
import { makeTeam, startServer } from "../support/teams";

/**
 * Settings → Channels with SMTP hosts a tenant should never reach, through the real server:
 * saving refuses them with our own words next to the field, and "Test connection" of one that
 * is stored anyway (from before the guard) fails with our words, before any connection. The
 * server resolves evil.example to the cloud metadata address through a DNS stand-in
 * (tests/support/fake-dns.ts); nothing here allows private hosts (no
 * OUTBOUND_ALLOWED_PRIVATE_HOSTS), as in production.
 */

const slug = "outbound-guard";
const page = `/w/${slug}/settings/channels`;

let server: TestServer;
let owner: TestUser;
let workspace: Workspace;
let alice: Browser;

function smtp(host: string, port: string) {
  return {
    intent: "save",
    provider: "email-smtp",
    host,
    port,
    tlsMode: "starttls",
    user: "mailer",
    password: "tenant-password-1234",
    fromIdentity: "Shop <news@shop.example>",
    ratePerSecond: "",
  };
}

beforeAll(async () => {
  ({ owner, workspace } = await makeTeam({
    owner: "Guard Owner",
    workspace: { slug, name: "Guarded Shop" },
  }));
  server = await startServer({
    nodeArgs: ["--import", "tsx", "--import", "./tests/support/fake-dns.ts"],
    env: {
      FAKE_DNS:
        "evil.example=169.254.169.254;mail.example=93.184.216.34;mail2.example=93.184.216.35",
      // Saving checks the connection: the public test addresses answer nothing, so fail fast.
      PROVIDER_TIMEOUT_MS: "1000",
    },
  });
  alice = await signedIn(server, owner);
}, 90_000);

afterAll(async () => {
  await server?.stop();
});

describe("saving an SMTP integration", () => {
  it.each([
    [
      "127.0.0.1",
      "22",
      "127.0.0.1 is a private or reserved address (loopback); only public servers can be used.",
    ],
    [
      "evil.example",
      "587",
      "Evil.example resolves to a private or reserved address (linkLocal); only public servers can be used.",
    ],
    [
      "localhost",
      "587",
      "Localhost resolves to a private or reserved address (loopback); only public servers can be used.",
    ],
    ["mail.example", "22", "Port 22 is not allowed (use 25, 465, 587, 2525)."],
  ])("refuses %s:%s with our words next to the field", async (host, port, said) => {
    const res = await alice.post(page, smtp(host, port));
    expect(res.status).toBe(400);
    const html = await textOf(res);
    expect(html).toContain(said);
    expect(html).not.toContain("tenant-password-1234");
    expect(listIntegrations(workspace.id)).toEqual([]);
  });
});

describe("testing an SMTP integration stored before the guard", () => {
  const ctx = () => openWorkspaceContext(workspace.id, { type: "user", id: owner.id }, {});

  it.each([
    [
      "127.0.0.1",
      22,
      "Email check failed at “Mail server connection and sign-in”: Could not connect to the mail server at 127.0.0.1:22: 127.0.0.1 is a private or reserved address (loopback); only public servers can be used",
    ],
    [
      "evil.example",
      587,
      "Email check failed at “Mail server connection and sign-in”: Could not connect to the mail server at evil.example:587: evil.example resolves to a private or reserved address (linkLocal); only public servers can be used",
    ],
  ])("%s:%s fails in our words, and nothing is contacted", async (host, port, said) => {
    // Written straight to the store, as an integration saved before the guard existed.
    const { intent: _intent, ratePerSecond: _rate, ...config } = smtp(host, String(port));
    const { id } = saveIntegration(ctx(), workspace.id, "email-smtp", { ...config, port });
    const res = await alice.post(page, { intent: "test", integrationId: id });
    expect(res.status).toBe(302);
    const cookies = res.headers
      .getSetCookie()
      .map((c) => c.split(";")[0])
      .join("; ");
    const html = await textOf(await alice.get(page, { cookie: `${alice.cookie}; ${cookies}` }));
    expect(html).toContain(said);
    const [stored] = listIntegrations(workspace.id);
    expect(stored).toMatchObject({ lastCheckOk: false });
    expect(stored!.lastCheckDetail).toBe(said.replace(/^[^:]+: /, ""));
  });
});

describe("moving an SMTP integration to another host", () => {
  it("asks for the password again, says why next to it, and keeps everything as it was", async () => {
    const first = await alice.post(page, smtp("mail.example", "587"));
    expect(first.status).toBe(302);
    const [saved] = listIntegrations(workspace.id);
    expect(saved!.fields).toMatchObject({ host: "mail.example", password: "••••1234" });

    const edit = await textOf(await alice.get(`${page}?edit=email`));
    expect(edit).toContain(
      "Leave blank to keep the current value (••••1234), unless you change the SMTP host or Port: then enter it again.",
    );

    const moved = await alice.post(`${page}?edit=email`, {
      ...smtp("mail2.example", "587"),
      password: "",
    });
    expect(moved.status).toBe(400);
    expect(await textOf(moved)).toContain(
      "Enter the password again: the SMTP host or Port changed, and a stored password is never sent to a new destination.",
    );
    const [kept] = listIntegrations(workspace.id);
    expect(kept!.fields).toMatchObject({ host: "mail.example", password: "••••1234" });
    expect(kept!.updatedAt).toEqual(saved!.updatedAt);
  });
});
