import {
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from "@remix-run/node";
import { Form, isRouteErrorResponse, Link, useLoaderData, useRouteError } from "@remix-run/react";
import { ROLE_LABELS } from "~/auth/permissions";
import { contextFor, getAuth, requireUser } from "~/auth/session.server";
import { Alert } from "~/components/ui/alert";
import { Button, ButtonLink } from "~/components/ui/button";
import { Card } from "~/components/ui/layout";
import { acceptInvitation, previewInvitation } from "~/domain/workspaces/invitations.server";
import { redirectWithFlash } from "~/lib/flash.server";

export const meta: MetaFunction = () => [{ title: "Invitation — Pleisys Engage" }];

export async function loader(args: LoaderFunctionArgs) {
  const invitation = previewInvitation(contextFor(args), args.params.token ?? "");
  const auth = await getAuth(args.request);
  return {
    invitation,
    signedInAs: auth && !auth.session.mfaPending ? auth.user.email : null,
    here: new URL(args.request.url).pathname,
  };
}

export async function action(args: ActionFunctionArgs) {
  const { user, ctx } = await requireUser(args);
  const { slug } = acceptInvitation(ctx, args.params.token ?? "", user.id);
  return redirectWithFlash(`/w/${slug}`, "Welcome to the workspace.");
}

export default function InvitationPage() {
  const { invitation, signedInAs, here } = useLoaderData<typeof loader>();
  if (!invitation) {
    return (
      <div className="auth-page">
        <Card>
          <h1>This invitation is no longer valid</h1>
          <p>
            Invitations work for 7 days and only once. Ask the person who invited you to send a new
            one.
          </p>
        </Card>
      </div>
    );
  }
  const back = encodeURIComponent(here);
  return (
    <div className="auth-page">
      <Card>
        <h1>Join {invitation.workspaceName}</h1>
        <p>
          You are invited to join <strong>{invitation.workspaceName}</strong> as{" "}
          {ROLE_LABELS[invitation.role]}. The invitation is for {invitation.email}.
        </p>
        {signedInAs === invitation.email ? (
          <Form method="post">
            <Button type="submit">Accept invitation</Button>
          </Form>
        ) : signedInAs ? (
          <Alert tone="warning">
            You are signed in as {signedInAs}. Sign out and sign in as {invitation.email} to accept.
          </Alert>
        ) : (
          <>
            <p>
              Create an account with this address, or sign in if you already have one. Either way,
              you come back here to accept.
            </p>
            <div className="auth-actions">
              <ButtonLink variant="primary" to={`/signup?redirectTo=${back}`}>
                Create an account
              </ButtonLink>
              <ButtonLink to={`/login?redirectTo=${back}`}>Sign in</ButtonLink>
            </div>
          </>
        )}
      </Card>
    </div>
  );
}

export function ErrorBoundary() {
  const error = useRouteError();
  const message =
    isRouteErrorResponse(error) && error.status < 500
      ? (error.data as { message?: unknown } | null)?.message
      : undefined;
  return (
    <div className="auth-page">
      <Card>
        <h1>We could not accept this invitation</h1>
        <p>
          {typeof message === "string"
            ? message
            : "It may have been used or withdrawn, or it is for a different email address."}
        </p>
        <Link to="/workspaces">Go to your workspaces</Link>
      </Card>
    </div>
  );
}
