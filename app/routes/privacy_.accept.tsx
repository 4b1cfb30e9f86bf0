import { redirect, type ActionFunctionArgs } from "@remix-run/node";
import { requireUser, safeRedirect } from "~/auth/session.server";
import { recordAcceptance } from "~/domain/privacy/policy-versions.server";
import { NotFoundError } from "~/lib/errors";
import { redirectWithFlash } from "~/lib/flash.server";

/** The banner's "Got it": records the signed-in user's acceptance of the announced version. */
export async function action(args: ActionFunctionArgs) {
  const { user, ctx } = await requireUser(args);
  const form = await args.request.formData();
  const raw = form.get("version");
  if (typeof raw !== "string" || !/^[1-9]\d{0,8}$/.test(raw)) {
    throw new NotFoundError("Policy version");
  }
  recordAcceptance(ctx, user.id, Number(raw));
  return redirectWithFlash(
    safeRedirect(form.get("redirectTo"), "/workspaces"),
    "Thanks. We have recorded that you have seen the new privacy policy.",
  );
}

export function loader() {
  return redirect("/privacy");
}
