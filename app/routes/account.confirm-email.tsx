import type { LoaderFunctionArgs } from "@remix-run/node";
import { contextFor } from "~/auth/session.server";
import { confirmEmailChange } from "~/domain/accounts/accounts.server";
import { redirectWithFlash } from "~/lib/flash.server";

/** The link sent to the new address; the change happens only when it is opened. */
export function loader(args: LoaderFunctionArgs) {
  const token = new URL(args.request.url).searchParams.get("token") ?? "";
  const done = confirmEmailChange(contextFor(args), token);
  return done
    ? redirectWithFlash("/account", "Your email address is changed.")
    : redirectWithFlash("/account", "This link has expired or was already used.", "error");
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
