import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { requireUser } from "~/auth/session.server";
import { Button } from "~/components/ui/button";
import { Card, EmptyState, PageHeader } from "~/components/ui/layout";
import { remainingRecoveryCodes } from "~/domain/accounts/mfa.server";
import {
  listSessions,
  revokeOtherSessions,
  revokeSession,
  sessionHandle,
} from "~/domain/accounts/sessions.server";
import { listAuditEvents } from "~/domain/audit/audit-queries.server";
import { redirectWithFlash } from "~/lib/flash.server";
import { submitForm } from "~/lib/form.server";
import { formatDateTime } from "~/lib/format";
import { sha256Hex } from "~/lib/tokens";
import { describeUserAgent } from "~/lib/user-agent";

export const meta: MetaFunction = () => [{ title: "Security — Pleisys Engage" }];

const EVENTS_PER_PAGE = 25;

const EVENT_LABELS: Record<string, string> = {
  "auth.signed_up": "Account created",
  "auth.signed_in": "Signed in",
  "auth.signed_out": "Signed out",
  "auth.sign_in_failed": "Failed sign-in attempt",
  "auth.locked_out": "Sign-in locked after repeated failures",
  "auth.email_verified": "Email address verified",
  "auth.password_reset_requested": "Password reset requested",
  "auth.password_reset": "Password reset",
  "auth.password_changed": "Password changed",
  "auth.password_set": "Password set",
  "auth.google_linked": "Google account linked",
  "account.email_change_requested": "Email change requested",
  "account.email_changed": "Email address changed",
  "account.profile_updated": "Profile updated",
  "mfa.enabled": "Two-factor authentication turned on",
  "mfa.disabled": "Two-factor authentication turned off",
  "mfa.code_rejected": "Wrong two-factor code entered",
  "mfa.recovery_code_used": "Recovery code used",
  "mfa.recovery_codes_regenerated": "New recovery codes made",
  "session.revoked": "Session signed out",
  "session.revoked_others": "Other sessions signed out",
  "session.revoked_all": "All sessions signed out",
};

export async function loader(args: LoaderFunctionArgs) {
  const { user, auth } = await requireUser(args);
  const before = Number(new URL(args.request.url).searchParams.get("before")) || undefined;
  const currentHash = sha256Hex(auth.token);
  const sessions = listSessions(user.id).map((s) => ({
    handle: sessionHandle(s),
    device: describeUserAgent(s.userAgent),
    ip: s.ip ?? "unknown",
    createdAt: formatDateTime(s.createdAt),
    lastSeenAt: formatDateTime(s.lastSeenAt),
    current: s.idHash === currentHash,
  }));
  const events = listAuditEvents({ userId: user.id }, { limit: EVENTS_PER_PAGE, before });
  return {
    user,
    sessions,
    recoveryCodesLeft: user.mfaEnabled ? remainingRecoveryCodes(user.id) : 0,
    events: events.rows.map((e) => ({
      id: e.id,
      at: formatDateTime(e.at),
      what: EVENT_LABELS[e.action] ?? e.action,
      ip: e.ip ?? "",
      device: describeUserAgent(e.userAgent),
    })),
    nextBefore: events.nextBefore,
  };
}

const SessionAction = z.discriminatedUnion("intent", [
  z.object({ intent: z.literal("revoke"), session: z.string().regex(/^[0-9a-f]{16}$/) }),
  z.object({ intent: z.literal("revoke-others") }),
]);

export async function action(args: ActionFunctionArgs) {
  const { user, ctx, auth } = await requireUser(args);
  return submitForm(await args.request.formData(), SessionAction, async (value) => {
    if (value.intent === "revoke-others") {
      const count = revokeOtherSessions(ctx, user.id, auth.token);
      return redirectWithFlash(
        "/account/security",
        count === 1
          ? "1 other session was signed out."
          : `${count} other sessions were signed out.`,
      );
    }
    const done = revokeSession(ctx, user.id, value.session);
    return redirectWithFlash(
      "/account/security",
      done ? "That session was signed out." : "That session had already ended.",
      done ? "success" : "info",
    );
  });
}

export default function SecurityPage() {
  const { user, sessions, recoveryCodesLeft, events, nextBefore } = useLoaderData<typeof loader>();
  const others = sessions.filter((s) => !s.current).length;
  return (
    <>
      <PageHeader
        title="Security"
        description="Your sessions, two-factor authentication and sign-in history."
      />
      <Card title="Two-factor authentication">
        {user.mfaEnabled ? (
          <p>
            <strong>On.</strong> You have {recoveryCodesLeft} unused recovery code
            {recoveryCodesLeft === 1 ? "" : "s"}.{" "}
            <Link to="/account/security/mfa">Manage two-factor authentication</Link>
          </p>
        ) : (
          <p>
            <strong>Off.</strong> Protect your account with an authenticator app.{" "}
            <Link to="/account/security/mfa">Turn on two-factor authentication</Link>
          </p>
        )}
      </Card>
      <Card title="Active sessions">
        <div className="table-scroll">
          <table className="table">
            <caption className="visually-hidden">Devices signed in to your account</caption>
            <thead>
              <tr>
                <th scope="col">Device</th>
                <th scope="col">IP address</th>
                <th scope="col">Signed in</th>
                <th scope="col">Last seen</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {sessions.map((s) => (
                <tr key={s.handle}>
                  <td>
                    {s.device}
                    {s.current ? <span className="badge">This device</span> : null}
                  </td>
                  <td>{s.ip}</td>
                  <td>{s.createdAt}</td>
                  <td>{s.lastSeenAt}</td>
                  <td>
                    {s.current ? null : (
                      <Form method="post">
                        <input type="hidden" name="intent" value="revoke" />
                        <input type="hidden" name="session" value={s.handle} />
                        <Button
                          variant="secondary"
                          type="submit"
                          aria-label={`Sign out ${s.device} (${s.ip})`}
                        >
                          Sign out
                        </Button>
                      </Form>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {others > 0 ? (
          <Form method="post">
            <input type="hidden" name="intent" value="revoke-others" />
            <Button variant="danger" type="submit">
              Sign out all other sessions
            </Button>
          </Form>
        ) : null}
      </Card>
      <Card title="Security events">
        {events.length === 0 ? (
          <EmptyState title="No events yet" />
        ) : (
          <div className="table-scroll">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">What</th>
                  <th scope="col">IP address</th>
                  <th scope="col">Device</th>
                </tr>
              </thead>
              <tbody>
                {events.map((e) => (
                  <tr key={e.id}>
                    <td>{e.at}</td>
                    <td>{e.what}</td>
                    <td>{e.ip}</td>
                    <td>{e.device}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {nextBefore ? <Link to={`?before=${nextBefore}`}>Older events</Link> : null}
      </Card>
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
