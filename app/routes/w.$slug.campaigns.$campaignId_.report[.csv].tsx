import type { LoaderFunctionArgs } from "@remix-run/node";
import { can } from "~/auth/permissions";
import { requireWorkspace } from "~/auth/workspace.server";
import { csvDownload } from "~/lib/csv-download.server";
import { exportCampaignRecipientsCsv } from "~/domain/analytics/campaign-report.server";
import { ForbiddenError } from "~/lib/errors";
import { parseId } from "~/lib/ids";

/**
 * GET /w/<slug>/campaigns/<id>/report.csv — one row per recipient of the campaign (address,
 * contact, variant, status, every timestamp, the provider's code and reason), read a page at
 * a time while the response streams. Formula-like cells are defused (app/lib/csv.ts); the
 * export is audited.
 */
export async function loader(args: LoaderFunctionArgs) {
  // One row per recipient with their address: a bulk contact file, so exporting contacts too.
  const { workspace, wctx, role } = await requireWorkspace(args, "campaigns:read");
  if (!can(role, "contacts:export")) throw new ForbiddenError();
  const id = parseId(args.params.campaignId, "Campaign");
  const chunks = exportCampaignRecipientsCsv(wctx, id);
  return csvDownload(chunks, `campaign-${id}-${workspace.slug}-recipients.csv`);
}
