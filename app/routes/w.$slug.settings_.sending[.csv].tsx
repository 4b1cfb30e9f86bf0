import type { LoaderFunctionArgs } from "@remix-run/node";
import { requireWorkspace } from "~/auth/workspace.server";
import { messageUsage, messageUsageCsv } from "~/domain/delivery/message-usage.server";

/**
 * GET /w/<slug>/settings/sending.csv — messages per UTC day and channel over the last 30 days,
 * the numbers on Settings → Sending & usage (for whoever may read that page).
 */
export async function loader(args: LoaderFunctionArgs) {
  const { workspace, wctx } = await requireWorkspace(args, "analytics:read");
  const usage = messageUsage(workspace.id, wctx.now());
  const filename = `usage-${workspace.slug}-${usage.from}-to-${usage.to}.csv`;
  return new Response(messageUsageCsv(usage), {
    headers: {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="${filename}"`,
      "Cache-Control": "no-store",
      "X-Content-Type-Options": "nosniff",
    },
  });
}
