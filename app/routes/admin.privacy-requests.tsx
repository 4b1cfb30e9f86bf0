import { getFormProps, getInputProps, useForm } from "@conform-to/react";
import { parseWithZod } from "@conform-to/zod/v4";
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { z } from "zod";
import { requireAdmin } from "~/auth/admin-access.server";
import { Checkbox, FormErrors, Select, TextArea } from "~/components/form";
import { Button } from "~/components/ui/button";
import { Field } from "~/components/ui/field";
import { Card, EmptyState } from "~/components/ui/layout";
import {
  listRequests,
  logRequestByOperator,
  REQUESTS_PAGE_SIZE,
} from "~/domain/privacy/dsar-requests.server";
import {
  DSAR_DETAILS_MAX,
  DSAR_REQUEST_TYPES,
  DSAR_STATUS_LABELS,
  DSAR_TYPE_LABELS,
} from "~/lib/dsar";
import { emailSchema } from "~/lib/email-address";
import { ValidationError } from "~/lib/errors";
import { redirectWithFlash } from "~/lib/flash.server";
import { dueCountdown, formatDateTime } from "~/lib/format";
import { submitForm } from "~/lib/form.server";

export const headers = () => ({ "Cache-Control": "no-store" });

export const meta: MetaFunction = () => [
  { title: "Privacy requests — Platform admin — Pleisys Engage" },
];

const PAGE_MAX = 1_000_000;

function pageParam(url: URL): number {
  const page = Number(url.searchParams.get("page") ?? "1");
  return Number.isInteger(page) && page >= 1 && page <= PAGE_MAX ? page : 1;
}

export async function loader(args: LoaderFunctionArgs) {
  await requireAdmin(args);
  const page = pageParam(new URL(args.request.url));
  const now = new Date();
  const { rows, total, overdue } = listRequests(now, page);
  return {
    page,
    total,
    overdue,
    pageCount: Math.max(1, Math.ceil(total / REQUESTS_PAGE_SIZE)),
    today: now.toISOString().slice(0, 10),
    requests: rows.map((r) => {
      const open = r.status === "open" || r.status === "unverified";
      return {
        id: r.id,
        type: DSAR_TYPE_LABELS[r.type],
        source:
          r.source === "email"
            ? "Email to privacy@"
            : `Portal: ${r.portalName ?? "Pleisys Engage"}`,
        status: DSAR_STATUS_LABELS[r.status],
        received: formatDateTime(r.receivedAt),
        due: formatDateTime(r.dueAt),
        countdown: open ? dueCountdown(r.dueAt, now).text : null,
        overdue: r.overdue,
        holders: r.tasks === 0 ? "—" : `${r.openTasks} of ${r.tasks} open`,
      };
    }),
  };
}

const LogRequest = z
  .object({
    type: z.enum(DSAR_REQUEST_TYPES, { error: "Choose the kind of request." }),
    email: emailSchema,
    phone: z.string().trim().max(40, "That phone number is too long.").optional(),
    details: z
      .string()
      .trim()
      .max(DSAR_DETAILS_MAX, `Use at most ${DSAR_DETAILS_MAX} characters.`)
      .optional(),
    receivedOn: z
      .string({ error: "Enter the date the email arrived." })
      .regex(/^\d{4}-\d{2}-\d{2}$/, "Enter the date the email arrived."),
    identityVerified: z.literal("on").optional(),
    verificationNote: z.string().trim().max(500, "Use at most 500 characters.").optional(),
  })
  .superRefine((value, ctx) => {
    if (value.identityVerified && !value.verificationNote) {
      ctx.addIssue({
        code: "custom",
        path: ["verificationNote"],
        message: "Say how you verified the requester's identity.",
      });
    }
  });

export async function action(args: ActionFunctionArgs) {
  const { ctx } = await requireAdmin(args);
  const formData = await args.request.formData();
  return submitForm(formData, LogRequest, async (value) => {
    const today = new Date().toISOString().slice(0, 10);
    // Today's date means "now"; an earlier date is that day's start (UTC): due 30 days later.
    const receivedAt =
      value.receivedOn === today ? null : new Date(`${value.receivedOn}T00:00:00Z`);
    if (receivedAt && Number.isNaN(receivedAt.getTime())) {
      throw new ValidationError("Enter the date the email arrived.", {
        receivedOn: ["Enter the date the email arrived."],
      });
    }
    const result = await logRequestByOperator(ctx, {
      type: value.type,
      email: value.email,
      phone: value.phone,
      details: value.details,
      receivedAt,
      identityVerified: value.identityVerified === "on",
      verificationNote: value.verificationNote,
    });
    return redirectWithFlash(
      "/admin/privacy-requests",
      result.verificationSent
        ? "Request logged. A confirmation link was sent to the requester; it starts once they confirm."
        : result.verify?.noData
          ? "Request logged and verified. Nobody holds data about this person, so it is complete and they were told."
          : `Request logged and verified. It went to ${result.verify?.tasks ?? 0} holder(s).`,
    );
  });
}

export default function AdminPrivacyRequests() {
  const { page, total, overdue, pageCount, requests, today } = useLoaderData<typeof loader>();
  return (
    <section aria-labelledby="privacy-requests-heading">
      <h2 id="privacy-requests-heading">Privacy requests</h2>
      <p className="muted" aria-live="polite">
        {total === 1 ? "1 request" : `${total} requests`}
        {overdue > 0 ? (
          <>
            {" · "}
            <span className="badge badge-danger">
              {overdue} overdue, escalated to platform admins
            </span>
          </>
        ) : null}
      </p>
      {requests.length === 0 ? (
        <EmptyState title="No privacy requests yet">
          Requests made at /dsar, at a workspace&apos;s portal, or logged below appear here.
        </EmptyState>
      ) : (
        <div className="table-scroll">
          <table className="table admin-table">
            <thead>
              <tr>
                <th scope="col">Type</th>
                <th scope="col">Source</th>
                <th scope="col">Received</th>
                <th scope="col">Due by</th>
                <th scope="col">Status</th>
                <th scope="col">Holders</th>
              </tr>
            </thead>
            <tbody>
              {requests.map((r) => (
                <tr key={r.id}>
                  <td className="admin-cell-wrap">{r.type}</td>
                  <td>{r.source}</td>
                  <td>{r.received}</td>
                  <td className="admin-cell-wrap">
                    {r.due}
                    {r.countdown ? (
                      <>
                        {" "}
                        <span className={r.overdue ? "badge badge-danger" : "muted"}>
                          {r.countdown}
                        </span>
                        {r.overdue ? <span className="badge badge-danger">Escalated</span> : null}
                      </>
                    ) : null}
                  </td>
                  <td>{r.status}</td>
                  <td>{r.holders}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {pageCount > 1 || page > 1 ? (
        <nav className="pager" aria-label="Pages">
          {page > 1 ? (
            <Link to={`?page=${Math.min(page - 1, pageCount)}`} rel="prev">
              Previous
            </Link>
          ) : (
            <span className="muted">Previous</span>
          )}
          {page < pageCount ? (
            <Link to={`?page=${page + 1}`} rel="next">
              Next
            </Link>
          ) : (
            <span className="muted">Next</span>
          )}
        </nav>
      ) : null}
      <LogRequestForm today={today} />
    </section>
  );
}

function LogRequestForm({ today }: { today: string }) {
  const lastResult = useActionData<typeof action>();
  const navigation = useNavigation();
  const [form, fields] = useForm({
    lastResult,
    onValidate: ({ formData }) => parseWithZod(formData, { schema: LogRequest }),
    // On submit, then on input: an error appearing as a field loses focus moves the
    // fields below it out from under the pointer mid-click.
    shouldValidate: "onSubmit",
    shouldRevalidate: "onInput",
  });
  return (
    <Card title="Log a request received by email">
      <p className="muted">
        For requests that came to privacy@pleisys.com. The requester gets a link to confirm the
        request, unless you have already verified who they are.
      </p>
      <Form method="post" {...getFormProps(form)}>
        <FormErrors errors={form.errors} id={form.errorId} />
        <Select
          name={fields.type.name}
          label="Kind of request"
          options={DSAR_REQUEST_TYPES.map((value) => ({ value, label: DSAR_TYPE_LABELS[value] }))}
          defaultValue={(fields.type.initialValue as string | undefined) ?? "access"}
          errors={fields.type.errors}
        />
        <Field
          label="Requester's email address"
          errors={fields.email.errors}
          {...getInputProps(fields.email, { type: "email" })}
        />
        <Field
          label="Requester's phone number (optional)"
          hint="With its country code, e.g. +91 98765 43210. Used only if you tick the box below; otherwise the request runs on the email address alone, once its link is confirmed."
          errors={fields.phone.errors}
          {...getInputProps(fields.phone, { type: "tel" })}
        />
        <TextArea
          name={fields.details.name}
          label="Details (what to change, for corrections)"
          maxLength={DSAR_DETAILS_MAX}
          defaultValue={(fields.details.initialValue as string | undefined) ?? ""}
          errors={fields.details.errors}
        />
        <Field
          label="Date the email arrived"
          hint="The 30 days to answer run from this date."
          max={today}
          errors={fields.receivedOn.errors}
          {...getInputProps(fields.receivedOn, { type: "date" })}
          defaultValue={(fields.receivedOn.initialValue as string | undefined) ?? today}
        />
        <Checkbox
          name={fields.identityVerified.name}
          label="I have verified by other means that the email address and any phone number above are the requester's"
          errors={fields.identityVerified.errors}
        />
        <TextArea
          name={fields.verificationNote.name}
          label="How you verified it (recorded in the audit log)"
          rows={2}
          maxLength={500}
          defaultValue={(fields.verificationNote.initialValue as string | undefined) ?? ""}
          errors={fields.verificationNote.errors}
        />
        <Button type="submit" disabled={navigation.state === "submitting"}>
          Log request
        </Button>
      </Form>
    </Card>
  );
}
