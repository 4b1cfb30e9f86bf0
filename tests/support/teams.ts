import type { WorkspaceContext } from "~/domain/context";
import { openWorkspaceContext } from "~/domain/workspaces/access.server";
import type { Workspace } from "~/domain/workspaces/workspaces.server";
import type { Role } from "~/lib/roles";
import {
  addMember,
  createVerifiedUser,
  createWorkspaceFor,
  signedIn,
  type Browser,
  type TestUser,
} from "./accounts";
import { startTestServer, type StartOptions, type TestServer } from "./server";

/**
 * Fixtures for route tests: the people and workspaces a test file seeds in this process, the
 * server started on the same DATA_DIR, and a signed-in browser per person. Built from the
 * factories in accounts.ts, so every file seeds the same way a person would arrive.
 */

export interface TeamSpec<M extends string> {
  /** The owner's name (shown in the app's pages). */
  owner: string;
  workspace?: Parameters<typeof createWorkspaceFor>[1];
  /** Members under the key the test names them by, each invited and accepted with a role. */
  members?: Record<M, { name: string; role: Exclude<Role, "owner"> }>;
}

export interface Team<M extends string> {
  owner: TestUser;
  workspace: Workspace;
  /** The owner's context on the workspace's tenant database, for seeding. */
  ctx: WorkspaceContext;
  members: Record<M, TestUser>;
}

/** A verified owner, their workspace, and its members (in the order given). */
export async function makeTeam<M extends string = never>(spec: TeamSpec<M>): Promise<Team<M>> {
  const owner = await createVerifiedUser({ name: spec.owner });
  const workspace = createWorkspaceFor(owner, spec.workspace);
  const members = {} as Record<M, TestUser>;
  const specs = Object.entries(spec.members ?? {}) as [
    M,
    { name: string; role: Exclude<Role, "owner"> },
  ][];
  for (const [key, member] of specs) {
    members[key] = await createVerifiedUser({ name: member.name });
    await addMember(workspace, owner, members[key], member.role);
  }
  const ctx = openWorkspaceContext(workspace.id, { type: "user", id: owner.id }, {});
  return { owner, workspace, ctx, members };
}

/**
 * The real server on this test file's DATA_DIR (tests/setup/env.ts gives each file its own), so
 * it reads what the file seeded here.
 */
export function startServer(options: Omit<StartOptions, "dataDir"> = {}): Promise<TestServer> {
  return startTestServer({ ...options, dataDir: process.env.DATA_DIR });
}

/** Signs each person in through /login, one after another; their browsers under the same keys. */
export async function signInAll<K extends string>(
  server: TestServer,
  people: Record<K, TestUser>,
): Promise<Record<K, Browser>> {
  const browsers = {} as Record<K, Browser>;
  for (const [key, person] of Object.entries(people) as [K, TestUser][]) {
    browsers[key] = await signedIn(server, person);
  }
  return browsers;
}
