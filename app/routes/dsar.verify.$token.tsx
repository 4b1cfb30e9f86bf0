import {
  data,
  redirect,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { contextFor } from "~/auth/session.server";
import { FormErrors } from "~/components/form";
import { Alert } from "~/components/ui/alert";
import { Button } from "~/components/ui/button";
import { Card, PageHeader } from "~/components/ui/layout";
import { isVerifyTokenUsable, verifyRequest } from "~/domain/privacy/dsar-requests.server";
import { ValidationError } from "~/lib/errors";

export const meta: MetaFunction = () => [
  { title: "Confirm your privacy request — Pleisys Engage" },
  { name: "robots", content: "noindex" },
];

// The link is a credential: keep the page out of caches.
export const headers = () => ({ "Cache-Control": "no-store" });

/** Shows the confirm button. A GET changes nothing: mail scanners follow links. */
export function loader({ params }: LoaderFunctionArgs) {
  return { usable: isVerifyTokenUsable(params.token ?? "", new Date()) };
}

export async function action(args: ActionFunctionArgs) {
  try {
    const result = await verifyRequest(contextFor(args), args.params.token ?? "");
    return redirect(`/dsar/status/${result.statusToken}`);
  } catch (error) {
    if (error instanceof ValidationError) {
      return data({ errors: [error.message] }, { status: 400 });
    }
    throw error;
  }
}

export default function VerifyPrivacyRequest() {
  const { usable } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const navigation = useNavigation();
  return (
    <div className="prose">
      <PageHeader title="Confirm your privacy request" />
      {usable && !result ? (
        <Card>
          <p>Confirm that you made this privacy request. We start on it as soon as you do.</p>
          <Form method="post" replace>
            <Button type="submit" disabled={navigation.state !== "idle"}>
              Confirm my request
            </Button>
          </Form>
        </Card>
      ) : result ? (
        <FormErrors errors={result.errors} />
      ) : (
        <Alert tone="error" title="This link cannot be used">
          <p>
            It has expired (links work for 24 hours) or was already used. If you still want us to
            act, <Link to="/dsar">send the request again</Link>.
          </p>
        </Alert>
      )}
    </div>
  );
}
