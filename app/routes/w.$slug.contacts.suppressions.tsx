import type { SubmissionResult } from "@conform-to/react";
import {
  data,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { z } from "zod";
import { can, type Permission } from "~/auth/permissions";
import { requireWorkspace, requireWorkspaceIntent } from "~/auth/workspace.server";
import { FormErrors, Select } from "~/components/form";
import { Alert } from "~/components/ui/alert";
import { Button, ButtonLink } from "~/components/ui/button";
import { Field } from "~/components/ui/field";
import { Card, EmptyState, PageHeader } from "~/components/ui/layout";
import {
  addSuppression,
  findSuppressions,
  getSuppression,
  listSuppressions,
  removeSuppression,
  SUPPRESSION_CHANNELS,
  SUPPRESSION_REASON_LABELS,
  type SuppressionChannel,
  type SuppressionRow,
} from "~/domain/contacts/suppressions.server";
import { CHANNEL_LABELS } from "~/lib/channels";
import { redirectWithFlash } from "~/lib/flash.server";
import { submitForm } from "~/lib/form.server";
import { formatDateTime, formatDateTimeCompact } from "~/lib/format";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `Suppression list — ${data?.workspace.name ?? "Workspace"} — Pleisys Engage` },
];

export const headers = () => ({ "Cache-Control": "no-store" });

const PAGE_SIZE = 50;

const channelLabel = (c: SuppressionChannel) => (c === "all" ? "All channels" : CHANNEL_LABELS[c]);

const identifier = z
  .string({ error: "Enter an email address or a phone number." })
  .trim()
  .min(1, "Enter an email address or a phone number.")
  .max(254, "That is too long for an email address or phone number.");
const channel = z.enum(SUPPRESSION_CHANNELS as [SuppressionChannel, ...SuppressionChannel[]], {
  error: "Choose a channel from the list.",
});

const Add = z.object({ identifier, channel });
const Check = z.object({ identifier });
const Remove = z.object({
  hash: z.string({ error: "Choose an entry." }).max(64, "Choose an entry."),
  channel,
});

const NEEDS = {
  add: "contacts:write",
  check: "contacts:read",
  remove: "contacts:write",
} as const satisfies Record<string, Permission>;
type Intent = keyof typeof NEEDS;

function present(row: SuppressionRow, timeZone: string) {
  return {
    id: `${row.hash}.${row.channel}`,
    hash: row.hash,
    fingerprint: row.fingerprint,
    kind: row.kind === "email" ? "Email address" : "Phone number",
    channel: row.channel,
    channelLabel: channelLabel(row.channel),
    reason: SUPPRESSION_REASON_LABELS[row.reason],
    manual: row.reason === "manual",
    created: formatDateTimeCompact(row.createdAt, timeZone),
    createdFull: formatDateTime(row.createdAt, timeZone),
    createdIso: row.createdAt.toISOString(),
  };
}

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, wctx, role } = await requireWorkspace(args, "contacts:read");
  const url = new URL(args.request.url);
  const afterParam = url.searchParams.get("after") ?? "";
  const after = /^[1-9]\d{0,15}$/.test(afterParam) ? Number(afterParam) : undefined;
  const { rows, next, total } = listSuppressions(wctx, { after, limit: PAGE_SIZE });
  const write = can(role, "contacts:write");
  const removeParam = url.searchParams.get("remove") ?? "";
  const dot = removeParam.lastIndexOf(".");
  const removing =
    write && dot > 0
      ? getSuppression(wctx, removeParam.slice(0, dot), removeParam.slice(dot + 1))
      : null;
  return data(
    {
      workspace: { name: workspace.name, slug: workspace.slug },
      canWrite: write,
      rows: rows.map((r) => present(r, workspace.timezone)),
      total,
      next,
      paged: after !== undefined,
      badPage: Boolean(afterParam) && after === undefined,
      removing: removing ? present(removing, workspace.timezone) : null,
      removeNotFound: write && Boolean(removeParam) && !removing,
      channels: SUPPRESSION_CHANNELS.map((c) => ({ value: c, label: channelLabel(c) })),
    },
    { status: afterParam && after === undefined ? 400 : 200 },
  );
}

export async function action(args: ActionFunctionArgs) {
  const formData = await args.request.formData();
  const { workspace, wctx, intent } = await requireWorkspaceIntent(args, formData, NEEDS);
  const page = `/w/${workspace.slug}/contacts/suppressions`;
  switch (intent) {
    case "add":
      return submitForm(formData, Add, (value) => {
        const result = addSuppression(wctx, value);
        const what = result.kind === "email" ? "email address" : "phone number";
        if (!result.added) {
          return redirectWithFlash(page, `That ${what} was already suppressed there.`, "info");
        }
        return redirectWithFlash(
          page,
          result.contactId
            ? `The ${what} is suppressed, and the matching contact's consent there is withdrawn.`
            : `The ${what} is suppressed.`,
        );
      });
    case "check":
      return submitForm(formData, Check, (value) => {
        const found = findSuppressions(wctx, value.identifier);
        return {
          checked: {
            kind: found.kind,
            rows: found.rows.map((r) => present(r, workspace.timezone)),
          },
        };
      });
    case "remove":
      return submitForm(formData, Remove, (value) => {
        removeSuppression(wctx, value);
        return redirectWithFlash(page, "Removed from the suppression list.");
      });
  }
}

type Presented = ReturnType<typeof present>;
type Checked = { checked: { kind: "email" | "phone"; rows: Presented[] } };

function SuppressionTable({ rows, removeBase }: { rows: Presented[]; removeBase: string | null }) {
  return (
    <div className="table-scroll">
      <table className="table">
        <thead>
          <tr>
            <th scope="col">Identifier</th>
            <th scope="col">Channel</th>
            <th scope="col">Reason</th>
            <th scope="col">Since</th>
            {removeBase ? <th scope="col">Actions</th> : null}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.id}>
              <th scope="row">
                {r.kind}{" "}
                <code title="The start of the keyed hash: it tells entries apart and reveals nothing">
                  {r.fingerprint}…
                </code>
              </th>
              <td>{r.channelLabel}</td>
              <td>{r.reason}</td>
              <td>
                <time dateTime={r.createdIso} title={r.createdFull}>
                  {r.created}
                </time>
              </td>
              {removeBase ? (
                <td>
                  {r.manual ? (
                    <Link to={`${removeBase}?remove=${encodeURIComponent(r.id)}`}>
                      Remove…<span className="visually-hidden"> entry {r.fingerprint}</span>
                    </Link>
                  ) : (
                    <span className="muted">Kept</span>
                  )}
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export default function SuppressionsPage() {
  const d = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>() as
    Checked | SubmissionResult<string[]> | undefined;
  const checked = actionData && "checked" in actionData ? actionData.checked : null;
  const result = actionData && !("checked" in actionData) ? actionData : undefined;
  const intent = result?.initialValue?.intent;
  const errorsFor = (name: Intent) => (intent === name ? (result?.error ?? {}) : {});
  const busy = useNavigation().state === "submitting";
  const page = `/w/${d.workspace.slug}/contacts/suppressions`;
  const addErrors = errorsFor("add");
  const checkErrors = errorsFor("check");
  const removeErrors = Object.values(errorsFor("remove")).flatMap((m) => m ?? []);

  return (
    <>
      <PageHeader
        title="Suppression list"
        description={
          <>
            People who must not be messaged: unsubscribes, bounces, complaints, erasure requests and
            entries added by hand. They are kept only as keyed hashes of the email address or phone
            number, so the list holds nothing readable, yet imports can never re-subscribe them.{" "}
            <Link to={`/w/${d.workspace.slug}/contacts`}>Back to contacts</Link>
          </>
        }
      />

      {d.removing ? (
        <Card title="Remove this entry?">
          <p>
            {d.removing.kind} <code>{d.removing.fingerprint}…</code> on{" "}
            {d.removing.channelLabel.toLowerCase()} can be messaged again once they give consent.
            Remove it only if it was added by mistake.
          </p>
          <Form method="post" action={page} className="inline-form">
            <input type="hidden" name="intent" value="remove" />
            <input type="hidden" name="hash" value={d.removing.hash} />
            <input type="hidden" name="channel" value={d.removing.channel} />
            <Button variant="danger" type="submit" disabled={busy}>
              Remove from the list
            </Button>
            <ButtonLink to={page}>Cancel</ButtonLink>
          </Form>
        </Card>
      ) : null}
      {d.removeNotFound ? (
        <FormErrors errors={["That entry is not on the list (it may already be removed)."]} />
      ) : null}
      <FormErrors errors={removeErrors} />

      <Card title="Is someone suppressed?">
        <Form method="post" action={page}>
          <input type="hidden" name="intent" value="check" />
          <FormErrors errors={checkErrors[""] ?? undefined} />
          <Field
            label="Email address or phone number"
            name="identifier"
            autoComplete="off"
            maxLength={254}
            errors={checkErrors.identifier ?? undefined}
            hint="We hash what you type the same way and look for it; nothing is stored."
          />
          <Button type="submit" variant="secondary" disabled={busy}>
            Check
          </Button>
        </Form>
        {checked ? (
          checked.rows.length ? (
            <>
              <Alert tone="warning" title="Suppressed">
                This {checked.kind === "email" ? "email address" : "phone number"} is on the list.
              </Alert>
              <SuppressionTable rows={checked.rows} removeBase={d.canWrite ? page : null} />
            </>
          ) : (
            <Alert tone="info" title="Not suppressed">
              This {checked.kind === "email" ? "email address" : "phone number"} is not on the list.
            </Alert>
          )
        ) : null}
      </Card>

      <section className="admin-section" aria-labelledby="list-heading">
        <h2 id="list-heading">
          Entries <span className="muted-count">({d.total.toLocaleString("en-US")})</span>
        </h2>
        {d.badPage ? (
          <FormErrors errors={["That page link is not valid. Showing the newest entries."]} />
        ) : null}
        {d.rows.length === 0 ? (
          <EmptyState title="Nobody is suppressed">
            Unsubscribes, bounces, complaints and erasures are added here automatically.
          </EmptyState>
        ) : (
          <SuppressionTable rows={d.rows} removeBase={d.canWrite ? page : null} />
        )}
        {d.paged || d.next ? (
          <nav className="pager" aria-label="Suppression list pages">
            {d.paged ? <Link to={page}>Newest</Link> : <span />}
            {d.next ? (
              <Link to={`${page}?after=${d.next}`} rel="next">
                Older
              </Link>
            ) : null}
          </nav>
        ) : null}
      </section>

      {d.canWrite ? (
        <Card title="Suppress an email address or phone number">
          <Form method="post" action={page}>
            <input type="hidden" name="intent" value="add" />
            <FormErrors errors={addErrors[""] ?? undefined} />
            <Field
              label="Email address or phone number"
              name="identifier"
              autoComplete="off"
              maxLength={254}
              errors={addErrors.identifier ?? undefined}
            />
            <Select
              name="channel"
              label="Channel"
              options={d.channels}
              defaultValue="all"
              errors={addErrors.channel ?? undefined}
            />
            <Button type="submit" disabled={busy}>
              Suppress
            </Button>
          </Form>
        </Card>
      ) : null}
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
