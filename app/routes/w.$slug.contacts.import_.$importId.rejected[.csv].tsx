import type { LoaderFunctionArgs } from "@remix-run/node";
import { requireWorkspace } from "~/auth/workspace.server";
import { exportImportErrors, getImport, isImportId } from "~/domain/contacts/import.server";
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
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = chunks.next();
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(next.value));
    },
    cancel() {
      chunks.return(undefined);
    },
  });
  const stem = summary.fileName
    .replace(/\.[^.]*$/, "")
    .replace(/[^\w.-]+/g, "_")
    .slice(0, 80);
  return new Response(body, {
    headers: {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="rejected-rows-${stem || "import"}.csv"`,
      "Cache-Control": "no-store",
      "X-Content-Type-Options": "nosniff",
    },
  });
}
