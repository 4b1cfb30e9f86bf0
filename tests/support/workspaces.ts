import { createUserByOperator } from "~/domain/admin/admin.server";
import type { RequestInfo, WorkspaceContext } from "~/domain/context";
import { openWorkspaceContext } from "~/domain/workspaces/access.server";
import { createWorkspace } from "~/domain/workspaces/workspaces.server";

/**
 * A workspace for domain tests in this process: an owner made the way an operator makes one
 * (no sign-up mail), the workspace, and the owner's context on its tenant database. Route tests,
 * which sign people in, use tests/support/accounts.ts and teams.ts instead.
 */

/** The settings every test workspace is created with (updateWorkspaceSettings needs them). */
export const WORKSPACE_SETTINGS = {
  country: "IN",
  timezone: "Asia/Kolkata",
  currency: "INR",
} as const;

export interface MakeWorkspaceOptions {
  /** Default `Shop <slug>`. */
  name?: string;
  /** The request the context records in audit rows; default none. */
  request?: RequestInfo;
  /** The context's clock; default real time. */
  now?: () => Date;
  /** When the owner and the workspace are created; default real time. */
  createdAt?: () => Date;
}

export async function makeWorkspace(
  slug: string,
  options: MakeWorkspaceOptions = {},
): Promise<WorkspaceContext> {
  const createdAt = options.createdAt ?? (() => new Date());
  const owner = await createUserByOperator(
    { actor: { type: "cli" }, now: createdAt },
    { name: "Owner", email: `owner@${slug}.test`, password: "plum orbit saddle 42" },
  );
  const actor = { type: "user" as const, id: owner.id };
  const ws = createWorkspace({ actor, now: createdAt }, owner.id, {
    slug,
    name: options.name ?? `Shop ${slug}`,
    ...WORKSPACE_SETTINGS,
  });
  return openWorkspaceContext(ws.id, actor, options.request ?? {}, options.now);
}
