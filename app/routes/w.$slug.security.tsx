import { getFormProps, getInputProps, useForm, type SubmissionResult } from "@conform-to/react";
import { parseWithZod } from "@conform-to/zod/v4";
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { z } from "zod";
import type { Permission } from "~/auth/permissions";
import { requireWorkspace, requireWorkspaceIntent } from "~/auth/workspace.server";
import { Checkbox, FormErrors } from "~/components/form";
import { Alert } from "~/components/ui/alert";
import { Button } from "~/components/ui/button";
import { Field } from "~/components/ui/field";
import { Card, EmptyState, PageHeader } from "~/components/ui/layout";
import {
  addAllowlistEntry,
  listAllowlist,
  removeAllowlistEntry,
} from "~/domain/workspaces/allowlist.server";
import { listMembers, setRequireMfa } from "~/domain/workspaces/workspaces.server";
import { ValidationError } from "~/lib/errors";
import { redirectWithFlash } from "~/lib/flash.server";
import { submitForm } from "~/lib/form.server";
import { normaliseIp } from "~/lib/ip";
import { formatDateTime } from "~/lib/format";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `Security — ${data?.workspace.name ?? "Workspace"} — Pleisys Engage` },
];

export const headers = () => ({ "Cache-Control": "no-store" });

/** The domain's limit too (allowlist.server); repeated here so the browser can check it. */
const MAX_LABEL = 100;

const AddEntry = z.object({
  cidr: z
    .string({ error: "Enter an IP address or CIDR range." })
    .trim()
    .min(1, "Enter an IP address or CIDR range.")
    .max(100, "That is too long for an IP address or CIDR range."),
  label: z
    .string()
    .trim()
    .max(MAX_LABEL, `Keep the label to ${MAX_LABEL} characters or fewer.`)
    .optional(),
});
const RemoveEntry = z.object({
  entryId: z.coerce
    .number({ error: "Choose an entry to remove." })
    .int("Choose an entry to remove.")
    .positive("Choose an entry to remove."),
});
const RequireMfa = z.object({ requireMfa: z.literal("on").optional() });

type Intent = "add" | "remove" | "mfa";

function shownIp(ip: string): string {
  try {
    return normaliseIp(ip);
  } catch {
    return ip || "unknown";
  }
}

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, user } = await requireWorkspace(args, "security:manage");
  const entries = listAllowlist(workspace.id).map((e) => ({
    id: e.id,
    cidr: e.cidr,
    label: e.label,
    added: formatDateTime(e.createdAt, workspace.timezone),
    addedIso: e.createdAt.toISOString(),
  }));
  const withoutMfa = listMembers(workspace.id).filter((m) => !m.mfaEnabled).length;
  return {
    workspace: { name: workspace.name, slug: workspace.slug, requireMfa: workspace.requireMfa },
    entries,
    clientIp: shownIp(args.context.clientIp),
    youHaveMfa: user.mfaEnabled,
    withoutMfa,
  };
}

const NEEDS = {
  add: "security:manage",
  remove: "security:manage",
  mfa: "security:manage",
} as const satisfies Record<string, Permission>;

export async function action(args: ActionFunctionArgs) {
  const formData = await args.request.formData();
  const { workspace, wctx, user, intent } = await requireWorkspaceIntent(args, formData, NEEDS);
  const page = `/w/${workspace.slug}/security`;
  switch (intent) {
    case "add":
      return submitForm(formData, AddEntry, (value) => {
        const entry = addAllowlistEntry(wctx, workspace.id, {
          cidr: value.cidr,
          label: value.label ?? "",
        });
        return redirectWithFlash(page, `${entry.cidr} added to the IP allowlist.`);
      });
    case "remove":
      return submitForm(formData, RemoveEntry, (value) => {
        removeAllowlistEntry(wctx, workspace.id, value.entryId);
        const empty = listAllowlist(workspace.id).length === 0;
        return redirectWithFlash(
          page,
          empty
            ? "Entry removed. The allowlist is now empty, so every address can reach this workspace."
            : "Entry removed from the IP allowlist.",
          empty ? "warning" : "success",
        );
      });
    case "mfa":
      return submitForm(formData, RequireMfa, (value) => {
        const required = value.requireMfa === "on";
        if (required && !user.mfaEnabled) {
          const message =
            "Turn on two-factor authentication for your own account first; otherwise this setting would lock you out of the workspace.";
          throw new ValidationError(message, { requireMfa: [message] });
        }
        setRequireMfa(wctx, workspace.id, required);
        return redirectWithFlash(
          page,
          required
            ? "Two-factor authentication is now required for every member."
            : "Two-factor authentication is now optional for members.",
        );
      });
  }
}

export default function SecurityPage() {
  const { workspace, entries, clientIp, youHaveMfa, withoutMfa } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>() as SubmissionResult<string[]> | undefined;
  const resultIntent = result?.initialValue?.intent;
  const resultFor = (intent: Intent) => (resultIntent === intent ? result : undefined);
  const navigation = useNavigation();
  const busy = navigation.state === "submitting";

  const [addForm, addFields] = useForm({
    id: "allowlist-add",
    lastResult: resultFor("add"),
    onValidate: ({ formData }) => parseWithZod(formData, { schema: AddEntry }),
    // On submit, then on input: an error appearing as a field loses focus moves the
    // fields below it out from under the pointer mid-click.
    shouldValidate: "onSubmit",
    shouldRevalidate: "onInput",
  });
  const [mfaForm, mfaFields] = useForm({
    id: "require-mfa",
    lastResult: resultFor("mfa"),
    onValidate: ({ formData }) => parseWithZod(formData, { schema: RequireMfa }),
  });
  const removeErrors = Object.values(resultFor("remove")?.error ?? {}).flatMap((m) => m ?? []);

  return (
    <>
      <PageHeader
        title="Security"
        description={`Who can reach ${workspace.name}, and how members must sign in.`}
      />

      <section className="card" aria-labelledby="allowlist-heading">
        <h2 id="allowlist-heading" className="card-title">
          IP allowlist
        </h2>
        <p>
          When the list has entries, this workspace&apos;s dashboard and API answer only requests
          from those addresses; everyone else, members included, is refused with a message saying
          why. <strong>An empty list allows every address.</strong>
        </p>
        <p>
          Your current address: <code className="ip">{clientIp}</code>
        </p>
        <p className="field-hint">
          You can&apos;t save a list that leaves your own address out: that would lock you out. To
          turn the allowlist off, remove every entry.
        </p>
        <FormErrors errors={removeErrors} />
        {entries.length === 0 ? (
          <EmptyState title="The allowlist is off">
            No entries yet, so every address can reach this workspace.
          </EmptyState>
        ) : (
          <div className="table-scroll">
            <table className="table">
              <caption className="visually-hidden">Allowed addresses and ranges</caption>
              <thead>
                <tr>
                  <th scope="col">Address or range</th>
                  <th scope="col">Label</th>
                  <th scope="col">Added</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {entries.map((e) => (
                  <tr key={e.id}>
                    <th scope="row">
                      <code>{e.cidr}</code>
                    </th>
                    <td>{e.label || <span className="muted-count">No label</span>}</td>
                    <td>
                      <time dateTime={e.addedIso}>{e.added}</time>
                    </td>
                    <td>
                      <Form method="post">
                        <input type="hidden" name="intent" value="remove" />
                        <input type="hidden" name="entryId" value={e.id} />
                        <Button variant="secondary" type="submit" disabled={busy}>
                          Remove<span className="visually-hidden"> {e.cidr}</span>
                        </Button>
                      </Form>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}

        <h3>Add an entry</h3>
        <Form method="post" {...getFormProps(addForm)}>
          <input type="hidden" name="intent" value="add" />
          <FormErrors errors={addForm.errors} id={addForm.errorId} />
          <Field
            label="IP address or range"
            hint={`A single IPv4 or IPv6 address, or a CIDR range: for example ${clientIp}, 203.0.113.0/24 or 2001:db8::/32.`}
            autoComplete="off"
            spellCheck={false}
            errors={addFields.cidr.errors}
            {...getInputProps(addFields.cidr, { type: "text" })}
          />
          <Field
            label="Label (optional)"
            hint="What the address is, for example “Mumbai office” or “VPN”."
            errors={addFields.label.errors}
            {...getInputProps(addFields.label, { type: "text" })}
          />
          <Button type="submit" disabled={busy}>
            Add to allowlist
          </Button>
        </Form>
      </section>

      <Card title="Two-factor authentication">
        <p>
          When required, members without two-factor authentication are asked to set it up before
          they can open this workspace.
          {withoutMfa > 0
            ? ` ${withoutMfa} ${withoutMfa === 1 ? "member has" : "members have"} not turned it on yet.`
            : " Every member has turned it on."}
        </p>
        {!youHaveMfa ? (
          <Alert tone="info">
            Turn on two-factor authentication for your own account first (
            <Link to="/account/security/mfa">set it up</Link>); you can then require it here.
          </Alert>
        ) : null}
        <Form method="post" {...getFormProps(mfaForm)}>
          <input type="hidden" name="intent" value="mfa" />
          <FormErrors errors={mfaForm.errors} id={mfaForm.errorId} />
          <Checkbox
            name={mfaFields.requireMfa.name}
            label="Members must use two-factor authentication"
            defaultChecked={workspace.requireMfa}
            errors={mfaFields.requireMfa.errors}
          />
          <Button type="submit" disabled={busy}>
            Save
          </Button>
        </Form>
      </Card>
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
