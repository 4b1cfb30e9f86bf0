import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliContext } from "~/domain/context";
import { replaceAllowlist } from "~/domain/workspaces/allowlist.server";
import { createApiKey, revokeApiKey } from "~/domain/workspaces/api-keys.server";
import type { Workspace } from "~/domain/workspaces/workspaces.server";
import { createVerifiedUser, createWorkspaceFor, type TestUser } from "../support/accounts";
import type { TestServer } from "../support/server";
import { startServer } from "../support/teams";

/** /api/v1 is reached with a workspace API key: the key picks the workspace, the allowlist applies. */

let server: TestServer;
let owner: TestUser;
let workspace: Workspace;
let other: Workspace;
let key: string;

beforeAll(async () => {
  owner = await createVerifiedUser();
  workspace = createWorkspaceFor(owner, { slug: "api-alpha" });
  other = createWorkspaceFor(await createVerifiedUser(), { slug: "api-bravo" });
  const ctx = { ...cliContext(), userId: owner.id };
  key = createApiKey(ctx, workspace.id, { name: "CRM sync", role: "marketer" }).secret;
  server = await startServer({
    env: { TRUST_PROXY: "loopback" },
  });
}, 30_000);

afterAll(async () => {
  await server?.stop();
});

const me = (headers: Record<string, string>) => server.fetch("/api/v1/me", { headers });

describe("API keys", () => {
  it("a key reaches its own workspace and no other", async () => {
    const res = await me({ authorization: `Bearer ${key}` });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      workspace: { id: workspace.id, slug: "api-alpha" },
      role: "marketer",
    });
    // Naming the other workspace anywhere in the request changes nothing.
    const sneaky = await server.fetch(`/api/v1/me?workspace=${other.slug}`, {
      headers: { authorization: `Bearer ${key}`, "x-workspace": other.id },
    });
    expect(((await sneaky.json()) as { workspace: { slug: string } }).workspace.slug).toBe(
      "api-alpha",
    );
  });

  it("refuses a missing, malformed or unknown key with 401 JSON", async () => {
    for (const headers of <Record<string, string>[]>[
      {},
      { authorization: "Basic abc" },
      { authorization: `Bearer ${key.slice(0, -1)}x` },
    ]) {
      const res = await me(headers);
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: { code: "unauthorized" } });
    }
  });

  it("applies the workspace's IP allowlist to IPv4 and IPv6 clients behind the proxy", async () => {
    replaceAllowlist(cliContext(), workspace.id, [
      { cidr: "203.0.113.0/24", label: "Office" },
      { cidr: "2001:db8:1::/48", label: "Office v6" },
    ]);
    const auth = { authorization: `Bearer ${key}` };
    const cases: [string, number][] = [
      ["203.0.113.7", 200],
      ["198.51.100.7", 403],
      ["2001:db8:1::42", 200],
      ["2001:db8:2::42", 403],
    ];
    for (const [ip, status] of cases) {
      const res = await me({ ...auth, "x-forwarded-for": ip });
      expect(res.status, ip).toBe(status);
      if (status === 403) {
        expect(((await res.json()) as { error: { message: string } }).error.message).toContain(ip);
      }
    }
    replaceAllowlist(cliContext(), workspace.id, []);
    expect((await me({ ...auth, "x-forwarded-for": "198.51.100.7" })).status).toBe(200);
  });

  it("a revoked key stops working at once", async () => {
    const ctx = { ...cliContext(), userId: owner.id };
    const temp = createApiKey(ctx, workspace.id, { name: "Temp", role: "viewer" });
    expect((await me({ authorization: `Bearer ${temp.secret}` })).status).toBe(200);
    revokeApiKey(cliContext(), workspace.id, temp.id);
    expect((await me({ authorization: `Bearer ${temp.secret}` })).status).toBe(401);
  });
});
