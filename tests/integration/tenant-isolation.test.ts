import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APP_ROOT } from "~/lib/app-root.server";
import { addMember, signedIn, type Browser, type TestUser } from "../support/accounts";
import type { TestServer } from "../support/server";
import { makeTeam, startServer } from "../support/teams";

/**
 * Tenant isolation over the whole route manifest: every route under /w/:slug, present and
 * future, is requested by a member of workspace A with workspace B's slug, as a page, as single
 * fetch data and as a form POST. None may answer with B's data or change anything.
 */

interface ManifestRoute {
  id: string;
  path?: string;
  parentId?: string;
  index?: boolean;
}

async function workspaceRoutePaths(): Promise<string[]> {
  const build = (await import(
    pathToFileURL(join(APP_ROOT, "build", "server", "index.js")).href
  )) as { routes: Record<string, ManifestRoute> };
  const routes = build.routes;
  const fullPath = (route: ManifestRoute): string => {
    const own = route.path ?? "";
    const parent = route.parentId ? routes[route.parentId] : undefined;
    const base = parent ? fullPath(parent) : "";
    return [base, own].filter(Boolean).join("/");
  };
  const paths = new Set<string>();
  for (const route of Object.values(routes)) {
    const path = fullPath(route);
    if (path === "w/:slug" || path.startsWith("w/:slug/")) paths.add(`/${path}`);
  }
  return [...paths].sort();
}

function fill(path: string, slug: string): string {
  return path
    .replace(":slug", slug)
    .replace(/:[A-Za-z]+\??/g, "x")
    .replace(/\*$/, "x");
}

let server: TestServer;
let owner: TestUser;
let other: TestUser;
let memberOfBoth: TestUser;
let alice: Browser;
let paths: string[];
const slugA = "isolation-a";
const slugB = "isolation-b";
const nameB = "Bravo Secret Workspace";

beforeAll(async () => {
  paths = await workspaceRoutePaths();
  const teamA = await makeTeam({
    owner: "Alice Owner",
    workspace: { slug: slugA, name: "Alpha Workspace" },
    members: { both: { name: "Carol Both", role: "viewer" } },
  });
  owner = teamA.owner;
  memberOfBoth = teamA.members.both;
  const teamB = await makeTeam({ owner: "Bob Owner", workspace: { slug: slugB, name: nameB } });
  other = teamB.owner;
  await addMember(teamB.workspace, other, memberOfBoth, "viewer");
  server = await startServer();
  alice = await signedIn(server, owner);
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

describe("tenant isolation across every /w/:slug route", () => {
  it("finds the workspace routes in the manifest", () => {
    // Guards against the loop silently covering nothing.
    expect(paths).toContain("/w/:slug");
    expect(paths).toContain("/w/:slug/members");
    expect(paths.length).toBeGreaterThanOrEqual(6);
  });

  it("a member of A reaches A's pages", async () => {
    for (const path of paths) {
      const res = await alice.get(fill(path, slugA));
      // Routes with more parameters get a made-up id ("x"): not found is the right answer.
      const expected = /:[a-z]+.*:[a-z]/i.test(path) ? [200, 404] : [200];
      expect(expected, `${path} for its own workspace`).toContain(res.status);
    }
  });

  it("a member of A gets 404 for every page of B, and never sees B's data", async () => {
    for (const path of paths) {
      for (const url of [fill(path, slugB), `${fill(path, slugB)}.data`]) {
        const res = await alice.get(url);
        const body = await res.text();
        expect([403, 404], `GET ${url}`).toContain(res.status);
        expect(body, `GET ${url}`).not.toContain(nameB);
      }
    }
  });

  it("a member of A cannot post to any action of B", async () => {
    const before = await server.fetch("/healthz");
    expect(before.status).toBe(200);
    for (const path of paths) {
      const url = fill(path, slugB);
      for (const intent of ["invite", "remove", "add", "create", "revoke", "update", "transfer"]) {
        const res = await alice.post(url, {
          intent,
          email: "intruder@example.com",
          role: "admin",
          name: "Hijacked",
          cidr: "0.0.0.0/0",
          label: "x",
          userId: owner.id,
          confirm: slugB,
        });
        expect([403, 404, 405], `POST ${url} intent=${intent}`).toContain(res.status);
        expect(await res.text()).not.toContain(nameB);
      }
    }
    // B is untouched: its owner still sees the original name and no intruder invitation.
    const bob = await signedIn(server, other);
    const members = await (await bob.get(`/w/${slugB}/members`)).text();
    expect(members).toContain(nameB);
    expect(members).not.toContain("intruder@example.com");
    const settings = await (await bob.get(`/w/${slugB}/settings`)).text();
    expect(settings).not.toContain("Hijacked");
  });

  it("a user in both workspaces gets each one's own data under its own slug only", async () => {
    const carol = await signedIn(server, memberOfBoth);
    const inB = await (await carol.get(`/w/${slugB}`)).text();
    expect(inB).toContain(nameB);
    const inA = await (await carol.get(`/w/${slugA}`)).text();
    expect(inA).toContain("Alpha Workspace");
    // The switcher lists B by name, but A's page itself shows A.
    expect(inA).toMatch(/<strong>Alpha Workspace<\/strong>/);
  });

  it("without a session every workspace route redirects to sign-in", async () => {
    for (const path of paths) {
      const res = await server.fetch(fill(path, slugB));
      expect(res.status, path).toBe(302);
      expect(res.headers.get("location"), path).toMatch(/^\/login\?redirectTo=/);
    }
  });
});
