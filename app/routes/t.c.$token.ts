import { redirect, type LoaderFunctionArgs } from "@remix-run/node";
import { engagementRequestFrom } from "~/domain/delivery/machine-engagement.server";
import { followClick, InvalidLinkError } from "~/domain/delivery/recipient-links.server";

/**
 * A tracked link in a marketing email: redirects to the URL signed into the token (never to
 * anything else, so it cannot be used as an open redirect) and counts the click when the
 * workspace tracks clicks and a person clicked: link scanners, prefetches and our own app are
 * redirected too, never counted. A bad token is a plain 400, never a redirect.
 */
export async function loader({ params, request }: LoaderFunctionArgs) {
  let url: string;
  try {
    url = await followClick(
      params.token ?? "",
      engagementRequestFrom(request.method, request.headers),
    );
  } catch (error) {
    if (!(error instanceof InvalidLinkError)) throw error;
    return new Response(error.message, {
      status: 400,
      headers: {
        "Content-Type": "text/plain; charset=utf-8",
        "Cache-Control": "no-store",
        "X-Robots-Tag": "noindex",
      },
    });
  }
  return redirect(url, {
    status: 302,
    headers: { "Cache-Control": "no-store", "Referrer-Policy": "no-referrer" },
  });
}
