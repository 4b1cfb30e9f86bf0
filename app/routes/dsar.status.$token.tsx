import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { Alert } from "~/components/ui/alert";
import { Card, PageHeader } from "~/components/ui/layout";
import { requestStatus, type IdentifierUse } from "~/domain/privacy/dsar-requests.server";
import { canTextRequesters } from "~/domain/privacy/dsar-sms.server";
import { DSAR_STATUS_LABELS, DSAR_TASK_STATUS_LABELS } from "~/lib/dsar";
import { dueCountdown, formatDateTime } from "~/lib/format";

export const meta: MetaFunction = () => [
  { title: "Your privacy request — Pleisys Engage" },
  { name: "robots", content: "noindex" },
];

// The signed link is the requester's only key to this page: never cached or shared onwards.
export const headers = () => ({ "Cache-Control": "no-store", "Referrer-Policy": "no-referrer" });

/** The requester's status page (signed link, no sign-in). Holders appear only once verified. */
export function loader({ params }: LoaderFunctionArgs) {
  const status = requestStatus(params.token ?? "");
  const now = new Date();
  const finished = status.status !== "open" && status.status !== "unverified";
  return {
    typeLabel: status.typeLabel,
    status: DSAR_STATUS_LABELS[status.status],
    verified: status.verified,
    finished,
    portalName: status.portalName,
    received: formatDateTime(status.receivedAt),
    due: formatDateTime(status.dueAt),
    countdown: finished ? null : dueCountdown(status.dueAt, now).text,
    completed: status.completedAt ? formatDateTime(status.completedAt) : null,
    outcome: status.outcome,
    covers: coverage(status.email, status.phone, canTextRequesters(status.portalWorkspaceId)),
    holders: status.holders.map((h) => ({
      name: h.name ?? "Pleisys Engage (your account)",
      status: DSAR_TASK_STATUS_LABELS[h.status],
      due: formatDateTime(h.dueAt),
      declineReason: h.declineReason,
      completed: h.completedAt ? formatDateTime(h.completedAt) : null,
    })),
  };
}

/**
 * Which identifiers the request runs on, in words (once verified). `canText`: the portal can
 * text a code now, so a new request there can prove the phone.
 */
function coverage(email: IdentifierUse, phone: IdentifierUse, canText: boolean): string | null {
  if (email === "used" && phone === "used") {
    return "Your email address and your phone number, both confirmed.";
  }
  if (email === "used" && phone === "left_out") {
    return canText
      ? "Your email address only, which you confirmed. The phone number you gave was not confirmed, so it was not used: to include it, send a new request and enter the code we text to it."
      : "Your email address only, which you confirmed. The phone number you gave could not be confirmed (we cannot text a code from this page), so it was not used: to include it, write to privacy@pleisys.com.";
  }
  if (phone === "used" && email === "left_out") {
    return "Your phone number only, which you confirmed. The email address you gave was not confirmed, so it was not used: to include it, send a new request and open the link we email to it.";
  }
  if (email === "used") return "Your email address, which you confirmed.";
  if (phone === "used") return "Your phone number, which you confirmed.";
  return null;
}

export default function PrivacyRequestStatus() {
  const page = useLoaderData<typeof loader>();
  return (
    <div className="prose">
      <PageHeader
        title="Your privacy request"
        description={page.portalName ? `Made to ${page.portalName}` : undefined}
      />
      <Card>
        <table className="table">
          <tbody>
            <tr>
              <th scope="row">Request</th>
              <td>{page.typeLabel}</td>
            </tr>
            <tr>
              <th scope="row">Status</th>
              <td>{page.status}</td>
            </tr>
            <tr>
              <th scope="row">Received</th>
              <td>{page.received}</td>
            </tr>
            <tr>
              <th scope="row">Due by</th>
              <td>
                {page.due}
                {page.countdown ? <span className="muted"> ({page.countdown})</span> : null}
              </td>
            </tr>
            {page.covers ? (
              <tr>
                <th scope="row">Covers</th>
                <td>{page.covers}</td>
              </tr>
            ) : null}
            {page.completed ? (
              <tr>
                <th scope="row">Completed</th>
                <td>{page.completed}</td>
              </tr>
            ) : null}
          </tbody>
        </table>
      </Card>
      {page.outcome ? (
        <Alert tone="success" title="Outcome">
          <p>{page.outcome}</p>
        </Alert>
      ) : null}
      {!page.verified ? (
        <Alert tone="info" title="Not confirmed yet">
          <p>
            Open the link we emailed, or enter the code we texted, to confirm the request. Nothing
            happens until you do.
          </p>
        </Alert>
      ) : page.holders.length > 0 ? (
        <section aria-labelledby="holders-heading">
          <h2 id="holders-heading">Who is answering</h2>
          <div className="table-scroll">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Business</th>
                  <th scope="col">Status</th>
                  <th scope="col">Due by</th>
                  <th scope="col">Notes</th>
                </tr>
              </thead>
              <tbody>
                {page.holders.map((h, i) => (
                  <tr key={i}>
                    <td>{h.name}</td>
                    <td>{h.status}</td>
                    <td>{h.due}</td>
                    <td>
                      {h.declineReason ? <p>Reason: {h.declineReason}</p> : null}
                      {h.completed ? <p>Done {h.completed}</p> : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      ) : null}
      <p className="muted">
        Questions? Write to <a href="mailto:privacy@pleisys.com">privacy@pleisys.com</a>. Keep this
        link private: anyone with it can see this page. <Link to="/privacy">Privacy policy</Link>
      </p>
    </div>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
