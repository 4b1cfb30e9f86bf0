import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData, useNavigation } from "@remix-run/react";
import { z } from "zod";
import { contextFor } from "~/auth/session.server";
import { Button } from "~/components/ui/button";
import { Card } from "~/components/ui/layout";
import { confirmEmailChange, describeEmailChangeLink } from "~/domain/accounts/accounts.server";
import { redirectWithFlash } from "~/lib/flash.server";

export const meta: MetaFunction = () => [{ title: "Confirm your new address — Pleisys Engage" }];

// The link is a credential: keep it out of caches and Referer headers.
export const headers = () => ({ "Cache-Control": "no-store", "Referrer-Policy": "no-referrer" });

/**
 * The link sent to the new address. A GET only shows the button: mail scanners and previews
 * follow links, so the address changes only when the button is pressed (a POST).
 */
export function loader({ request }: LoaderFunctionArgs) {
  const token = new URL(request.url).searchParams.get("token") ?? "";
  const pending = describeEmailChangeLink(token, new Date());
  return { token: pending ? token : null, newEmail: pending?.newEmail ?? null };
}

const Confirm = z.object({ token: z.string().max(200) });

export async function action(args: ActionFunctionArgs) {
  const parsed = Confirm.safeParse(Object.fromEntries(await args.request.formData()));
  const done = parsed.success ? confirmEmailChange(contextFor(args), parsed.data.token) : null;
  return done
    ? redirectWithFlash("/account", "Your email address is changed.")
    : redirectWithFlash("/account", "This link has expired or was already used.", "error");
}

export default function ConfirmEmailChangePage() {
  const { token, newEmail } = useLoaderData<typeof loader>();
  const navigation = useNavigation();
  return (
    <div className="auth-page">
      <Card>
        <h1>Confirm your new address</h1>
        {token && newEmail ? (
          <Form method="post">
            <p>
              Use <strong>{newEmail}</strong> as the email address of your Pleisys Engage account?
            </p>
            <input type="hidden" name="token" value={token} />
            <Button type="submit" disabled={navigation.state !== "idle"}>
              Confirm new address
            </Button>
          </Form>
        ) : (
          <p>
            This link has expired or was already used. Links to confirm a new address work once, for
            24 hours. <Link to="/account">Go to your account</Link> to ask for a new one.
          </p>
        )}
      </Card>
    </div>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
