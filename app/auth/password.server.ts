import { createCookieSessionStorage } from "@remix-run/node";
import { Authenticator, AuthorizationError } from "remix-auth";
import { FormStrategy } from "remix-auth-form";
import { checkPassword } from "~/domain/accounts/accounts.server";
import type { User } from "~/domain/accounts/users.server";
import type { SystemContext } from "~/domain/context";
import { getSecrets } from "~/lib/local-secrets.server";

/**
 * remix-auth never holds our sessions (they live in the control db, see session.server), so
 * its required session storage is a throwaway that is never committed.
 */
function unusedStorage() {
  return createCookieSessionStorage({
    cookie: { name: "engage_unused", secrets: [getSecrets().sessionSecret] },
  });
}

/**
 * Email + password through remix-auth's form strategy. The strategy's verify step is
 * checkPassword: abuse limits, progressive lockout and the one answer for "no such account"
 * and "wrong password". Typed errors come back out as themselves, so routes map them as usual.
 */
export async function authenticateWithPassword(
  ctx: SystemContext,
  request: Request,
  formData: FormData,
): Promise<User> {
  const authenticator = new Authenticator<User>(unusedStorage(), { throwOnError: true });
  authenticator.use(
    new FormStrategy<User>(async ({ form }) =>
      checkPassword(ctx, String(form.get("email") ?? ""), String(form.get("password") ?? "")),
    ),
    "form",
  );
  try {
    // The body was read already (it is in formData); remix-auth copies the request, so it gets
    // one without a body.
    const bodiless = new Request(request.url, { method: "POST", headers: request.headers });
    return await authenticator.authenticate("form", bodiless, {
      throwOnError: true,
      context: { formData } as never,
    });
  } catch (error) {
    if (error instanceof AuthorizationError && error.cause) throw error.cause;
    throw error;
  }
}
