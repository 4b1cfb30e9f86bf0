import { createReadableStreamFromReadable, type LoaderFunctionArgs } from "@remix-run/node";
import { createReadStream } from "node:fs";
import { requireWorkspace } from "~/auth/workspace.server";
import { openContactExportDownload } from "~/domain/contacts/contact-export.server";
import { AppError } from "~/lib/errors";

/**
 * GET /w/<slug>/contacts/export/<exportId>?token=… — downloads a finished contact export.
 *
 * Two locks, both required: the signed-in member's session with contacts:export in this
 * workspace (requireWorkspace: membership, MFA rule, IP allowlist), and the export's own
 * unexpired token. The link lives under the workspace's URL, so the tenant comes from the
 * session and membership, never from the token; an export id from another workspace is simply
 * not in this workspace's file (404). A leaked link alone is useless to someone who is not a
 * member, and a member can't fetch files by guessing ids. A wrong token is a 404, an expired
 * link a 410.
 */
export async function loader(args: LoaderFunctionArgs) {
  const { workspace, wctx } = await requireWorkspace(args, "contacts:export");
  const token = new URL(args.request.url).searchParams.get("token") ?? "";
  let download;
  try {
    download = openContactExportDownload(wctx, args.params.exportId ?? "", token);
  } catch (error) {
    if (!(error instanceof AppError) || error.status >= 500) throw error;
    return new Response(
      `${error.status === 404 ? "This export does not exist." : error.message}\n`,
      {
        status: error.status,
        headers: { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" },
      },
    );
  }
  const day = download.createdAt.toISOString().slice(0, 10);
  return new Response(createReadableStreamFromReadable(createReadStream(download.path)), {
    headers: {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Length": String(download.bytes),
      "Content-Disposition": `attachment; filename="contacts-${workspace.slug}-${day}.csv"`,
      "Cache-Control": "no-store",
      "Referrer-Policy": "no-referrer",
      "X-Content-Type-Options": "nosniff",
    },
  });
}
