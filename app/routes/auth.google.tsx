import { redirect, type ActionFunctionArgs } from "@remix-run/node";
import { authenticateWithGoogle } from "~/auth/google-sign-in.server";
import { NotFoundError } from "~/lib/errors";

/** POST (so the origin check applies) sends the browser to Google with a fresh `state`. */
export async function action({ request }: ActionFunctionArgs) {
  const identity = await authenticateWithGoogle(request);
  if (identity === null) throw new NotFoundError("Page");
  return redirect("/login");
}

export function loader() {
  return redirect("/login");
}
