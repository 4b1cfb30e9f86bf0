import { redirect, type LoaderFunctionArgs } from "@remix-run/node";
import { authenticateWithGoogle, savePendingGoogleSignup } from "~/auth/google-sign-in.server";
import { contextFor, readSessionToken, startSession } from "~/auth/session.server";
import { recordSignIn } from "~/domain/accounts/accounts.server";
import { resolveGoogleIdentity } from "~/domain/accounts/google-identity.server";
import { AppError } from "~/lib/errors";
import { redirectWithFlash } from "~/lib/flash.server";
import { logger } from "~/lib/logger.server";

/** Google sends the browser back here with `code` and `state`. */
export async function loader(args: LoaderFunctionArgs) {
  const ctx = contextFor(args);
  let identity;
  try {
    identity = await authenticateWithGoogle(args.request);
  } catch (error) {
    if (error instanceof Response) throw error;
    logger.warn({ err: error }, "google sign-in failed");
    return redirectWithFlash("/login", "Google sign-in didn't work. Please try again.", "error");
  }
  if (!identity) return redirect("/login");
  try {
    const outcome = resolveGoogleIdentity(ctx, identity);
    if (outcome.kind === "new") {
      return redirect("/signup/google", {
        headers: { "Set-Cookie": await savePendingGoogleSignup(identity) },
      });
    }
    const user = outcome.user;
    const replacing = await readSessionToken(args.request);
    if (user.totpEnabledAt) {
      const cookie = await startSession(ctx, user.id, { mfaPending: true, replacing });
      return redirect("/login/mfa", { headers: { "Set-Cookie": cookie } });
    }
    const cookie = await startSession(ctx, user.id, { replacing });
    await recordSignIn(ctx, user, "google");
    return redirect("/workspaces", { headers: { "Set-Cookie": cookie } });
  } catch (error) {
    if (error instanceof AppError && error.status < 500) {
      return redirectWithFlash("/login", error.message, "error");
    }
    throw error;
  }
}
