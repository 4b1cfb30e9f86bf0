import { getFormProps, getInputProps, useForm, type SubmissionResult } from "@conform-to/react";
import { parseWithZod } from "@conform-to/zod/v4";
import {
  data,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { z } from "zod";
import {
  ROLE_DESCRIPTIONS,
  ROLE_LABELS,
  ROLES,
  type Role,
  type Permission,
} from "~/auth/permissions";
import { requireWorkspace, requireWorkspaceIntent } from "~/auth/workspace.server";
import { FormErrors, Select } from "~/components/form";
import { Alert } from "~/components/ui/alert";
import { Button, ButtonLink } from "~/components/ui/button";
import { Field } from "~/components/ui/field";
import { Card, EmptyState, PageHeader } from "~/components/ui/layout";
import { createApiKey, listApiKeys, revokeApiKey } from "~/domain/workspaces/api-keys.server";
import { assignableRoles } from "~/domain/workspaces/workspaces.server";
import { redirectWithFlash } from "~/lib/flash.server";
import { submitForm } from "~/lib/form.server";
import { formatDateTimeCompact } from "~/lib/format";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `API keys — ${data?.workspace.name ?? "Workspace"} — Pleisys Engage` },
];

// The page that shows a new key's secret must never be stored by a browser or proxy.
export const headers = () => ({ "Cache-Control": "no-store" });

const CreateKey = z.object({
  name: z
    .string({ error: "Name the key, for example “CRM sync”." })
    .trim()
    .min(1, "Name the key, for example “CRM sync”.")
    .max(80, "Use at most 80 characters."),
  role: z.enum(ROLES, { error: "Choose a role from the list." }),
});
const RevokeKey = z.object({
  keyId: z
    .string({ error: "Choose a key to revoke." })
    .trim()
    .min(1, "Choose a key to revoke.")
    .max(64, "Choose a key to revoke."),
});

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, role } = await requireWorkspace(args, "api_keys:manage");
  const tz = workspace.timezone;
  const keys = listApiKeys(workspace.id).map((k) => ({
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    role: k.role,
    created: formatDateTimeCompact(k.createdAt, tz),
    createdIso: k.createdAt.toISOString(),
    lastUsed: k.lastUsedAt ? formatDateTimeCompact(k.lastUsedAt, tz) : null,
    lastUsedIso: k.lastUsedAt?.toISOString() ?? null,
  }));
  const revokeId = new URL(args.request.url).searchParams.get("revoke");
  const revoking = revokeId ? (keys.find((k) => k.id === revokeId) ?? null) : null;
  return {
    workspace: { name: workspace.name, slug: workspace.slug },
    roles: assignableRoles(role),
    keys,
    revoking,
    revokeNotFound: Boolean(revokeId && !revoking),
  };
}

const NEEDS = {
  create: "api_keys:manage",
  revoke: "api_keys:manage",
} as const satisfies Record<string, Permission>;

export async function action(args: ActionFunctionArgs) {
  const formData = await args.request.formData();
  const { workspace, wctx, intent } = await requireWorkspaceIntent(args, formData, NEEDS);
  const page = `/w/${workspace.slug}/api-keys`;
  switch (intent) {
    case "create":
      return submitForm(formData, CreateKey, (value) => {
        const { secret } = createApiKey(wctx, workspace.id, value);
        // Answered on this response only (no redirect): the secret is never stored anywhere
        // it could be shown again.
        return data(
          { created: { name: value.name, role: value.role, secret } },
          { headers: { "Cache-Control": "no-store" } },
        );
      });
    case "revoke":
      return submitForm(formData, RevokeKey, (value) => {
        revokeApiKey(wctx, workspace.id, value.keyId);
        return redirectWithFlash(page, "API key revoked. Requests using it are now refused.");
      });
  }
}

type Created = { created: { name: string; role: Role; secret: string } };

export default function ApiKeysPage() {
  const { workspace, roles, keys, revoking, revokeNotFound } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>() as
    Created | SubmissionResult<string[]> | undefined;
  const created = actionData && "created" in actionData ? actionData.created : null;
  const result = actionData && !("created" in actionData) ? actionData : undefined;
  const navigation = useNavigation();
  const busy = navigation.state === "submitting";
  const createResult = result?.initialValue?.intent === "create" ? result : undefined;
  const revokeErrors =
    result?.initialValue?.intent === "revoke"
      ? Object.values(result.error ?? {}).flatMap((m) => m ?? [])
      : [];

  const [form, fields] = useForm({
    id: "create-key",
    lastResult: createResult,
    onValidate: ({ formData }) => parseWithZod(formData, { schema: CreateKey }),
    // On submit, then on input: an error appearing as a field loses focus moves the
    // fields below it out from under the pointer mid-click.
    shouldValidate: "onSubmit",
    shouldRevalidate: "onInput",
  });
  const page = `/w/${workspace.slug}/api-keys`;

  return (
    <>
      <PageHeader
        title="API keys"
        description={`Keys let your own systems call the ${workspace.name} API, which today has one endpoint: GET /api/v1/me answers with the key's workspace and role, to check a key and the IP allowlist. Each key acts with the role you give it.`}
      />

      {created ? (
        <section className="card new-secret" aria-labelledby="new-key-heading">
          <h2 id="new-key-heading" className="card-title">
            Your new key “{created.name}”
          </h2>
          <Alert tone="warning" title="Copy this key now: it is shown only once.">
            We store only a fingerprint of it, so nobody (us included) can show it to you again. If
            you lose it, revoke it and create a new one.
          </Alert>
          <p id="new-key-label">Secret key, role {ROLE_LABELS[created.role]}:</p>
          <pre className="secret-value" aria-labelledby="new-key-label">
            <code>{created.secret}</code>
          </pre>
          <p className="field-hint">
            Send it in the <code>Authorization: Bearer …</code> header. Treat it like a password:
            keep it out of code repositories, chats and browsers.
          </p>
        </section>
      ) : null}

      {revoking ? (
        <Card title={`Revoke “${revoking.name}”?`}>
          <p>
            Anything using the key <code>{`${revoking.prefix}…`}</code> stops working immediately.
            This can&apos;t be undone: you would create a new key instead.
          </p>
          <Form method="post" action={page} className="inline-form">
            <input type="hidden" name="intent" value="revoke" />
            <input type="hidden" name="keyId" value={revoking.id} />
            <Button variant="danger" type="submit" disabled={busy}>
              Revoke key
            </Button>
            <ButtonLink to={page}>Cancel</ButtonLink>
          </Form>
        </Card>
      ) : null}
      {revokeNotFound ? (
        <FormErrors errors={["That key does not exist or has already been revoked."]} />
      ) : null}
      <FormErrors errors={revokeErrors} />

      <section className="admin-section" aria-labelledby="keys-heading">
        <h2 id="keys-heading">Active keys</h2>
        {keys.length === 0 ? (
          <EmptyState title="No API keys yet">
            Create one below to connect another system.
          </EmptyState>
        ) : (
          <div className="table-scroll">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Key</th>
                  <th scope="col">Role</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {keys.map((k) => (
                  <tr key={k.id}>
                    <th scope="row">{k.name}</th>
                    <td>
                      <code>{`${k.prefix}…`}</code>
                    </td>
                    <td>{ROLE_LABELS[k.role]}</td>
                    <td>
                      <time dateTime={k.createdIso}>{k.created}</time>
                    </td>
                    <td>
                      {k.lastUsed && k.lastUsedIso ? (
                        <time dateTime={k.lastUsedIso}>{k.lastUsed}</time>
                      ) : (
                        "Never"
                      )}
                    </td>
                    <td>
                      <Link to={`${page}?revoke=${encodeURIComponent(k.id)}`}>
                        Revoke…<span className="visually-hidden"> {k.name}</span>
                      </Link>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <Card title="Create a key">
        <Form method="post" action={page} {...getFormProps(form)}>
          <input type="hidden" name="intent" value="create" />
          <FormErrors errors={form.errors} id={form.errorId} />
          <Field
            label="Name"
            hint="What uses the key, so you can tell keys apart later."
            autoComplete="off"
            errors={fields.name.errors}
            {...getInputProps(fields.name, { type: "text" })}
          />
          <Select
            name={fields.role.name}
            label="Role"
            hint="The key can do what a member with this role can do. Give it the least it needs."
            options={roles.map((r) => ({
              value: r,
              label: `${ROLE_LABELS[r]}: ${ROLE_DESCRIPTIONS[r]}`,
            }))}
            defaultValue={String(fields.role.initialValue ?? "viewer")}
            errors={fields.role.errors}
          />
          <Button type="submit" disabled={busy}>
            Create key
          </Button>
        </Form>
      </Card>
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
