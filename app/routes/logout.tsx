import { redirect, type ActionFunctionArgs } from "@remix-run/node";
import { contextFor, endSession, getAuth } from "~/auth/session.server";
import { recordSignOut } from "~/domain/accounts/accounts.server";

export async function action(args: ActionFunctionArgs) {
  const auth = await getAuth(args.request);
  if (auth) recordSignOut(contextFor(args, { type: "user", id: auth.user.id }), auth.user.id);
  return redirect("/", { headers: { "Set-Cookie": await endSession(args.request) } });
}

/** Signing out changes state, so it is a POST; a GET just goes home. */
export function loader() {
  return redirect("/");
}
