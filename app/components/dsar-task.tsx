import type { SubmissionResult } from "@conform-to/react";
import { Form, Link, useNavigation } from "@remix-run/react";
import { Checkbox, FormErrors, Select, TextArea } from "./form";
import { Button } from "./ui/button";
import { Field } from "./ui/field";
import { Card } from "./ui/layout";

/**
 * One privacy request task (DSAR) for its decider: the workspace's owners and admins, or a
 * platform admin for account data. Facts, the decision forms (approve — with the corrected
 * fields for a correction — or decline with a reason; each asks for a ticked confirmation), the
 * download once ready, and the history.
 */

export interface DsarTaskData {
  id: number;
  typeLabel: string;
  status: string;
  statusLabel: string;
  received: string;
  receivedIso: string;
  due: string;
  dueIso: string;
  countdown: string;
  overdue: boolean;
  open: boolean;
  details: string | null;
  needsFields: boolean;
  correction: boolean;
  contacts: { id: number; name: string }[];
  account: { name: string; email: string } | null;
  declineReason: string | null;
  decidedBy: string;
  decided: string | null;
  completed: string | null;
  counts: Record<string, number> | null;
  downloadUrl: string | null;
  downloadExpires: string | null;
  history: { at: string; atIso: string; what: string; by: string }[];
}

export const CONFIRM_LABELS = {
  approve: "I checked this request and want it carried out",
  decline: "Decline it and tell the requester the reason",
} as const;

type Intent = keyof typeof CONFIRM_LABELS;

const COUNT_LABELS: Record<string, string> = {
  rows: "rows exported",
  bytes: "bytes",
  contacts: "contacts",
  messages: "messages emptied",
  events: "timeline events",
  conversations: "conversation messages",
  suppressions: "suppression entries",
  consentsWithdrawn: "consents withdrawn",
  fields: "fields corrected",
  attributes: "attributes corrected",
  memberships: "memberships",
  optOuts: "mail opt-outs",
};

function errorsFor(result: SubmissionResult | undefined, intent: Intent) {
  const mine = result?.initialValue?.intent === intent ? result : undefined;
  const field = (name: string) => mine?.error?.[name] ?? undefined;
  return { form: mine?.error?.[""] ?? undefined, field, value: mine?.initialValue ?? {} };
}

function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

export function DsarTaskPanel({
  task,
  action,
  result,
  contactHref,
  attributeKeys,
}: {
  task: DsarTaskData;
  /** The page's URL: the forms post back to it. */
  action: string;
  result?: SubmissionResult;
  /** Workspace pages link matched contacts. */
  contactHref?: (id: number) => string;
  /** Custom attribute keys the correction form may set (workspace tasks). */
  attributeKeys?: string[];
}) {
  const busy = useNavigation().state === "submitting";
  const canApprove = task.status === "pending" || task.needsFields;
  return (
    <>
      <Card title="Request">
        <dl className="role-list">
          <dt>Type</dt>
          <dd>{task.typeLabel}</dd>
          <dt>Received</dt>
          <dd>
            <time dateTime={task.receivedIso}>{task.received}</time>
          </dd>
          <dt>Due</dt>
          <dd>
            <time dateTime={task.dueIso}>{task.due}</time>
            {task.countdown ? (
              <span className={`badge ${task.overdue ? "badge-danger" : "badge-warning"}`}>
                {task.countdown}
              </span>
            ) : null}
          </dd>
          <dt>Status</dt>
          <dd>{task.statusLabel}</dd>
          {task.declineReason ? (
            <>
              <dt>Declined because</dt>
              <dd>{task.declineReason}</dd>
            </>
          ) : null}
          {task.decided ? (
            <>
              <dt>Decided</dt>
              <dd>
                {task.decided} by {task.decidedBy}
              </dd>
            </>
          ) : null}
          {task.completed ? (
            <>
              <dt>Carried out</dt>
              <dd>{task.completed}</dd>
            </>
          ) : null}
          {task.counts ? (
            <>
              <dt>What was done</dt>
              <dd>
                {Object.entries(task.counts)
                  .map(([k, n]) => `${n.toLocaleString("en-US")} ${COUNT_LABELS[k] ?? k}`)
                  .join(", ")}
              </dd>
            </>
          ) : null}
        </dl>
        {task.account ? (
          <p>
            About the account of <strong>{task.account.name}</strong> ({task.account.email}).
          </p>
        ) : null}
        {contactHref ? (
          task.contacts.length ? (
            <p>
              Contacts with the person&apos;s email or phone:{" "}
              {task.contacts.map((c, i) => (
                <span key={c.id}>
                  {i ? ", " : null}
                  <Link to={contactHref(c.id)}>{c.name}</Link>
                </span>
              ))}
            </p>
          ) : (
            <p className="muted">No contact has the person&apos;s email or phone now.</p>
          )
        ) : null}
        {task.details ? (
          <>
            <h3>What the person wrote</h3>
            <p className="secret-value">{task.details}</p>
          </>
        ) : null}
      </Card>

      {task.downloadUrl ? (
        <Card title="Export">
          <p>
            The export is ready; the requester received this link. It works until{" "}
            {task.downloadExpires}, and every download is recorded.
          </p>
          <p>
            <a href={task.downloadUrl} download>
              Download the export (zip)
            </a>
          </p>
        </Card>
      ) : null}

      {task.open ? (
        <>
          {canApprove ? (
            <ApproveForm
              task={task}
              action={action}
              busy={busy}
              result={result}
              attributeKeys={attributeKeys}
            />
          ) : null}
          <DeclineForm action={action} busy={busy} result={result} />
        </>
      ) : null}

      <Card title="History">
        {task.history.length ? (
          <table className="table">
            <caption className="visually-hidden">
              What happened to this request, newest first
            </caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">What</th>
                <th scope="col">Who</th>
              </tr>
            </thead>
            <tbody>
              {task.history.map((h, i) => (
                <tr key={i}>
                  <td>
                    <time dateTime={h.atIso}>{h.at}</time>
                  </td>
                  <td>{h.what}</td>
                  <td>{h.by}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p className="muted">Received {task.received}; nothing decided yet.</p>
        )}
      </Card>
    </>
  );
}

function ApproveForm({
  task,
  action,
  busy,
  result,
  attributeKeys,
}: {
  task: DsarTaskData;
  action: string;
  busy: boolean;
  result?: SubmissionResult;
  attributeKeys?: string[];
}) {
  const e = errorsFor(result, "approve");
  return (
    <section className="card" aria-labelledby="approve-heading">
      <h2 id="approve-heading" className="card-title">
        {task.needsFields ? "Apply the correction" : "Approve"}
      </h2>
      <Form method="post" action={action}>
        <FormErrors errors={e.form} />
        <input type="hidden" name="intent" value="approve" />
        {task.correction ? (
          <>
            <p>
              Enter the corrected values the person asked for; leave the others empty. They are
              checked like any edit{task.account ? "" : " of a contact"}.
            </p>
            {task.contacts.length > 1 ? (
              <Select
                name="contactId"
                label="Contact to correct"
                options={task.contacts.map((c) => ({ value: String(c.id), label: c.name }))}
                defaultValue={text(e.value.contactId)}
                errors={e.field("contactId")}
              />
            ) : null}
            <Field
              name="name"
              label="Corrected name"
              autoComplete="off"
              defaultValue={text(e.value.name)}
              errors={e.field("name")}
            />
            <Field
              name="email"
              type="email"
              label="Corrected email address"
              autoComplete="off"
              defaultValue={text(e.value.email)}
              errors={e.field("email")}
            />
            {task.account ? null : (
              <>
                <Field
                  name="phone"
                  type="tel"
                  label="Corrected phone number"
                  autoComplete="off"
                  defaultValue={text(e.value.phone)}
                  errors={e.field("phone")}
                />
                <TextArea
                  name="attributes"
                  label="Corrected attributes"
                  hint={
                    attributeKeys?.length
                      ? `One per line as “key = value”; an empty value clears it. Keys: ${attributeKeys.join(", ")}.`
                      : "This workspace has no custom attributes."
                  }
                  rows={3}
                  defaultValue={text(e.value.attributes)}
                  errors={e.field("attributes")}
                />
              </>
            )}
          </>
        ) : (
          <p>{approveWhat(task.typeLabel)}</p>
        )}
        <Checkbox name="confirm" label={CONFIRM_LABELS.approve} errors={e.field("confirm")} />
        <Button type="submit" disabled={busy}>
          {task.correction ? "Approve and apply the correction" : "Approve and carry it out"}
        </Button>
      </Form>
    </section>
  );
}

function approveWhat(typeLabel: string): string {
  if (/Erasure|child/.test(typeLabel)) {
    return "Approving deletes the person's contact record, timeline and conversations, empties the messages sent to them, and keeps only a hash so they are never messaged or imported again. This cannot be undone.";
  }
  if (/Opt out/.test(typeLabel)) {
    return "Approving puts the person on the suppression list for every channel.";
  }
  return "Approving writes a zip of everything held about the person (JSON and CSV) and sends them a download link valid for 7 days.";
}

function DeclineForm({
  action,
  busy,
  result,
}: {
  action: string;
  busy: boolean;
  result?: SubmissionResult;
}) {
  const e = errorsFor(result, "decline");
  return (
    <section className="card danger-zone" aria-labelledby="decline-heading">
      <h2 id="decline-heading" className="card-title">
        Decline
      </h2>
      <Form method="post" action={action}>
        <FormErrors errors={e.form} />
        <input type="hidden" name="intent" value="decline" />
        <TextArea
          name="reason"
          label="Reason for declining"
          hint="Sent to the requester. Say which legal ground applies, e.g. invoices kept for tax law."
          rows={3}
          maxLength={1000}
          defaultValue={text(e.value.reason)}
          errors={e.field("reason")}
        />
        <Checkbox name="confirm" label={CONFIRM_LABELS.decline} errors={e.field("confirm")} />
        <Button type="submit" variant="danger" disabled={busy}>
          Decline the request
        </Button>
      </Form>
    </section>
  );
}
