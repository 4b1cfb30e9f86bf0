import type { LoaderFunctionArgs } from "@remix-run/node";
import { requireWorkspace } from "~/auth/workspace.server";
import { csvDownload } from "~/lib/csv-download.server";
import { dayIn, exportAuditCsv, workspaceAuditFilter } from "~/domain/audit/audit-export.server";
import { ValidationError } from "~/lib/errors";

/**
 * GET /w/<slug>/audit.csv?action=&from=&to= — the workspace's audit events as a CSV download,
 * with the same filters as the audit log page. Rows are read and written in batches while the
 * response streams, so a large log never sits in memory. The export itself is audited.
 */
export async function loader(args: LoaderFunctionArgs) {
  const { workspace, wctx } = await requireWorkspace(args, "audit:read");
  const params = new URL(args.request.url).searchParams;
  let filter;
  try {
    filter = workspaceAuditFilter(workspace.id, workspace.timezone, {
      action: params.get("action") ?? undefined,
      from: params.get("from") ?? undefined,
      to: params.get("to") ?? undefined,
    });
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const details = Object.values(error.fieldErrors).flat();
    return new Response(`${[error.message, ...details].join("\n")}\n`, {
      status: 400,
      headers: { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" },
    });
  }

  const lines = exportAuditCsv(wctx, filter)[Symbol.iterator]();
  const filename = `audit-${workspace.slug}-${dayIn(wctx.now(), workspace.timezone)}.csv`;
  return csvDownload(lines, filename);
}
