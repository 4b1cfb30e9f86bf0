import type { LoaderFunctionArgs } from "@remix-run/node";
import { requireWorkspace } from "~/auth/workspace.server";
import { csvDownload } from "~/lib/csv-download.server";
import { inboxReportCsv, loadInboxReport, reportCsvTable } from "~/domain/inbox/reports.server";

/**
 * GET /w/<slug>/inbox/reports.csv?from=&to= — the inbox report's numbers, one row per day, or
 * one per member with `table=agents`. A range the page would refuse is a 400 here too.
 */
export async function loader(args: LoaderFunctionArgs) {
  const { workspace, wctx } = await requireWorkspace(args, "analytics:read");
  const params = new URL(args.request.url).searchParams;
  const table = reportCsvTable(params.get("table"));
  const report = await loadInboxReport(wctx, { from: params.get("from"), to: params.get("to") });
  const name = table === "agents" ? "inbox-members" : "inbox-days";
  return csvDownload(
    inboxReportCsv(report, table),
    `${name}-${workspace.slug}-${report.from}-to-${report.to}.csv`,
  );
}
