import type { LoaderFunctionArgs } from "@remix-run/node";
import { requireWorkspace } from "~/auth/workspace.server";
import { queryAnalytics } from "~/domain/analytics/analytics-worker.server";
import { summariseProgress } from "~/domain/campaigns/progress";
import { parseId } from "~/lib/ids";

/**
 * A campaign's live numbers as JSON (campaigns:read), polled by its page every 2 s while it
 * runs: { status, total, queued, percent, counts: { waiting, sent, delivered, seen, clicked,
 * replied, failed, skipped }, running }.
 */
export async function loader(args: LoaderFunctionArgs) {
  const { wctx } = await requireWorkspace(args, "campaigns:read");
  const id = parseId(args.params.campaignId, "Campaign");
  const progress = await queryAnalytics("campaignProgress", wctx.workspace, id);
  return Response.json(summariseProgress(progress), {
    headers: { "Cache-Control": "no-store" },
  });
}
