import { createReadableStreamFromReadable, type LoaderFunctionArgs } from "@remix-run/node";
import { createReadStream } from "node:fs";
import { contextFor } from "~/auth/session.server";
import { openDsarDownload } from "~/domain/privacy/dsar-fulfil.server";
import { AppError } from "~/lib/errors";

/**
 * GET /dsar/download/<signed token> — the requester's privacy export (a zip), for 7 days.
 * The requester has no account: the link is the key. A token that is not ours, tampered with,
 * or names a replaced export is a 404; an expired one a 410. Every download is audited.
 */
export async function loader(args: LoaderFunctionArgs) {
  const ctx = contextFor(args, { type: "system", id: "dsar-download" });
  let download;
  try {
    download = openDsarDownload(ctx, args.params.token ?? "");
  } catch (error) {
    if (!(error instanceof AppError) || error.status >= 500) throw error;
    return new Response(
      `${error.status === 404 ? "This download link is not valid." : error.message}\n`,
      {
        status: error.status,
        headers: { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" },
      },
    );
  }
  return new Response(createReadableStreamFromReadable(createReadStream(download.path)), {
    headers: {
      "Content-Type": "application/zip",
      "Content-Length": String(download.bytes),
      "Content-Disposition": `attachment; filename="privacy-export-${download.taskId}.zip"`,
      "Cache-Control": "no-store",
      "Referrer-Policy": "no-referrer",
      "X-Content-Type-Options": "nosniff",
      "X-Robots-Tag": "noindex",
    },
  });
}
