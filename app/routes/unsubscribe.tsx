import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { Alert } from "~/components/ui/alert";
import { Button } from "~/components/ui/button";
import { Card, PageHeader } from "~/components/ui/layout";
import { systemContext } from "~/domain/context";
import { describeUnsubscribe, optOut } from "~/domain/mail/mail.server";

export const meta: MetaFunction = () => [
  { title: "Unsubscribe — Pleisys Engage" },
  { name: "robots", content: "noindex" },
];

// The token is a credential for one address: keep the page out of caches.
export const headers = () => ({ "Cache-Control": "no-store" });

/** Shows what the link unsubscribes from. A GET changes nothing: link scanners follow GETs. */
export function loader({ request }: LoaderFunctionArgs) {
  const token = new URL(request.url).searchParams.get("token") ?? "";
  return { token, ...describeUnsubscribe(token) };
}

/**
 * Unsubscribes. Answers both the button below and the RFC 8058 one-click POST a mail client sends
 * to the List-Unsubscribe URL (body `List-Unsubscribe=One-Click`, token in the query string).
 */
export async function action({ request, context }: ActionFunctionArgs) {
  let form: FormData | null = null;
  try {
    form = await request.formData();
  } catch {
    form = null; // An empty or unreadable body: the token in the URL is enough.
  }
  const fromForm = form?.get("token");
  const token =
    typeof fromForm === "string" && fromForm !== ""
      ? fromForm
      : (new URL(request.url).searchParams.get("token") ?? "");
  const ctx = {
    ...systemContext("mail-unsubscribe"),
    request: {
      ip: context.clientIp || undefined,
      userAgent: request.headers.get("user-agent") ?? undefined,
    },
  };
  const result = optOut(ctx, token);
  return { unsubscribed: true as const, maskedEmail: result.maskedEmail, what: result.what };
}

const REQUIRED_NOTE =
  "Required messages about your account, such as password resets and security changes, still arrive.";

export default function Unsubscribe() {
  const page = useLoaderData<typeof loader>();
  const done = useActionData<typeof action>();
  const navigation = useNavigation();

  if (done?.unsubscribed) {
    return (
      <div className="prose">
        <PageHeader title="You are unsubscribed" />
        <Alert tone="success" title="Done">
          <p>
            {done.maskedEmail} will no longer receive {done.what}.
          </p>
        </Alert>
        <p>{REQUIRED_NOTE}</p>
        <p>
          <Link to="/privacy">Read our privacy policy</Link>
        </p>
      </div>
    );
  }

  return (
    <div className="prose">
      <PageHeader title="Unsubscribe" />
      {page.alreadyOptedOut ? (
        <Alert tone="info" title="Already unsubscribed">
          <p>
            {page.maskedEmail} does not receive {page.what}.
          </p>
        </Alert>
      ) : (
        <Card>
          <p>
            Stop sending <strong>{page.what}</strong> to <strong>{page.maskedEmail}</strong>?
          </p>
          <Form method="post" replace>
            <input type="hidden" name="token" value={page.token} />
            <Button type="submit" disabled={navigation.state !== "idle"}>
              Unsubscribe
            </Button>
          </Form>
        </Card>
      )}
      <p>{REQUIRED_NOTE}</p>
    </div>
  );
}
