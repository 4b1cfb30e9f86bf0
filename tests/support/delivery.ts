import type { WorkspaceContext } from "~/domain/context";
import { Dispatcher, type DispatcherWiring } from "~/domain/delivery/dispatcher.server";
import { deliveryWiring } from "~/jobs/delivery-wiring.server";

/**
 * Helpers for delivery-engine tests in this process: a run of the real dispatcher until nothing
 * of the workspace is queued or sending (tests/support/workspaces.ts makes the workspace).
 */

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
