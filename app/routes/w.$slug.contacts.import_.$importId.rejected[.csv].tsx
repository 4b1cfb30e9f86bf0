import type { LoaderFunctionArgs } from "@remix-run/node";
import { requireWorkspace } from "~/auth/workspace.server";
import { csvDownload } from "~/lib/csv-download.server";
import { exportImportErrors, getImport, isImportId } from "~/domain/contacts/import/imports.server";
import { NotFoundError } from "~/lib/errors";

/**
 * GET /w/<slug>/contacts/import/<id>/rejected.csv — the rows an import rejected (row number,
 * column, reason), streamed a page at a time. Cells that a spreadsheet would run as a formula
 * (= + - @ tab CR) get a leading ' (app/lib/csv.ts).
 */
export async function loader(args: LoaderFunctionArgs) {
  const { wctx } = await requireWorkspace(args, "contacts:write");
  const id = args.params.importId;
  if (!isImportId(id)) throw new NotFoundError("Import");
  const summary = getImport(wctx, id);
  const chunks = exportImportErrors(wctx, id);
  const stem = summary.fileName
    .replace(/\.[^.]*$/, "")
    .replace(/[^\w.-]+/g, "_")
    .slice(0, 80);
  return csvDownload(chunks, `rejected-rows-${stem || "import"}.csv`);
}
