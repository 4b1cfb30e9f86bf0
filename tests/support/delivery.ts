import { createUserByOperator } from "~/domain/admin/admin.server";
import type { WorkspaceContext } from "~/domain/context";
import { Dispatcher, type DispatcherWiring } from "~/domain/delivery/dispatcher.server";
import { openWorkspaceContext } from "~/domain/workspaces/access.server";
import { createWorkspace } from "~/domain/workspaces/workspaces.server";
import { deliveryWiring } from "~/jobs/delivery-wiring.server";

/**
 * Helpers for delivery-engine tests in this process: a workspace with its owner, and a run of
 * the real dispatcher until nothing of the workspace is queued or sending.
 */

/** The settings every test workspace is created with (updateWorkspaceSettings needs them). */
export const WORKSPACE_SETTINGS = {
  country: "IN",
  timezone: "Asia/Kolkata",
  currency: "INR",
} as const;

export async function deliveryWorkspace(slug: string): Promise<WorkspaceContext> {
  const owner = await createUserByOperator(
    { actor: { type: "cli" }, now: () => new Date() },
    { name: "Owner", email: `owner@${slug}.test`, password: "plum orbit saddle 42" },
  );
  const ws = createWorkspace(
    { actor: { type: "user", id: owner.id }, now: () => new Date() },
    owner.id,
    { slug, name: `Shop ${slug}`, ...WORKSPACE_SETTINGS },
  );
  return openWorkspaceContext(ws.id, { type: "user", id: owner.id }, {});
}

/**
 * Runs a dispatcher until the workspace has no queued or sending message (or 20 s pass), wired
 * as the host wires it unless the test says otherwise.
 */
export async function dispatchAll(
  ctx: WorkspaceContext,
  options: { retryBaseMs?: number; timeoutMs?: number; wiring?: DispatcherWiring } = {},
): Promise<Dispatcher> {
  const dispatcher = new Dispatcher({
    ...(options.wiring ?? deliveryWiring),
    maxInFlight: 32,
    retryBaseMs: options.retryBaseMs ?? 5,
  });
  dispatcher.start();
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  for (;;) {
    await dispatcher.idle();
    const open = ctx.db.$client
      .prepare("SELECT count(*) AS n FROM messages WHERE status IN ('queued', 'sending')")
      .get() as { n: number };
    if (open.n === 0 || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
    dispatcher.scan();
  }
  await dispatcher.stop();
  return dispatcher;
}

/** How many webhook events the workspace has stored (all integrations). */
export function storedWebhookEvents(ctx: WorkspaceContext): number {
  return (ctx.db.$client.prepare("SELECT count(*) AS n FROM webhook_events").get() as { n: number })
    .n;
}
