import type { LoaderFunctionArgs } from "@remix-run/node";
import { engagementRequestFrom } from "~/domain/delivery/machine-engagement.server";
import { recordOpen } from "~/domain/delivery/recipient-links.server";
import { logger } from "~/lib/logger.server";

/** A 1×1 transparent GIF (43 bytes). */
const PIXEL = Uint8Array.from(
  Buffer.from("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7", "base64"),
);

/**
 * The open pixel of a marketing email. Always the same image, whatever the token: a mail client
 * never shows a broken image, and a bad token learns nothing. The open is counted only when the
 * token is ours, the workspace tracks opens and a person loaded it (not our app, a bot or a mail
 * app that loads every image in advance).
 */
export async function loader({ params, request }: LoaderFunctionArgs) {
  try {
    await recordOpen(params.token ?? "", engagementRequestFrom(request.method, request.headers));
  } catch (error) {
    logger.warn({ err: error }, "could not record an email open");
  }
  return new Response(PIXEL, {
    status: 200,
    headers: {
      "Content-Type": "image/gif",
      "Content-Length": String(PIXEL.byteLength),
      "Cache-Control": "no-store, max-age=0",
      "X-Robots-Tag": "noindex",
    },
  });
}
