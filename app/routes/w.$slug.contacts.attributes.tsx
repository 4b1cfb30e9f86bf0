import type { SubmissionResult } from "@conform-to/react";
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { z } from "zod";
import { can, type Permission } from "~/auth/permissions";
import { requireWorkspace, requireWorkspaceIntent } from "~/auth/workspace.server";
import { useFollowField } from "~/components/follow-field";
import { FormErrors, Select } from "~/components/form";
import { Button, ButtonLink } from "~/components/ui/button";
import { ConfirmCard } from "~/components/ui/confirm-card";
import { Field } from "~/components/ui/field";
import { Card, EmptyState, PageHeader } from "~/components/ui/layout";
import {
  ATTRIBUTE_TYPE_LABELS,
  ATTRIBUTE_TYPES,
  createAttributeDefinition,
  deleteAttributeDefinition,
  listAttributeDefinitions,
  updateAttributeDefinition,
} from "~/domain/contacts/attributes.server";
import { redirectWithFlash } from "~/lib/flash.server";
import { submitForm } from "~/lib/form.server";
import { formatDateTime } from "~/lib/format";
import { attributeKeyFromLabel } from "~/lib/slug";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `Contact attributes — ${data?.workspace.name ?? "Workspace"} — Pleisys Engage` },
];

export const headers = () => ({ "Cache-Control": "no-store" });

const key = z
  .string({ error: "Enter a key." })
  .trim()
  .min(1, "Enter a key.")
  .max(40, "Use at most 40 characters.");
const label = z
  .string({ error: "Enter a label." })
  .trim()
  .min(1, "Enter a label.")
  .max(80, "Use at most 80 characters.");
const options = z.string().max(10_000, "That is too many options.").optional();

const Create = z.object({
  // Left empty (no JavaScript to fill it in from the label), the key is made from the label.
  key: z.string().trim().max(40, "Use at most 40 characters.").default(""),
  label,
  type: z.enum(ATTRIBUTE_TYPES, { error: "Choose a type from the list." }),
  options,
});
const Update = z.object({ key, label, options });
const Delete = z.object({ key });

const lines = (text: string | undefined) => (text ?? "").split(/\r?\n/);

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, wctx, role } = await requireWorkspace(args, "contacts:read");
  const url = new URL(args.request.url);
  const write = can(role, "contacts:write");
  const definitions = listAttributeDefinitions(wctx).map((d) => ({
    key: d.key,
    label: d.label,
    type: d.type,
    typeLabel: ATTRIBUTE_TYPE_LABELS[d.type],
    options: d.options,
    created: formatDateTime(d.createdAt, workspace.timezone),
  }));
  const find = (param: string) => {
    const value = url.searchParams.get(param);
    return write && value ? (definitions.find((d) => d.key === value) ?? null) : null;
  };
  const editing = find("edit");
  const deleting = find("delete");
  const missing =
    write &&
    ((url.searchParams.has("edit") && !editing) || (url.searchParams.has("delete") && !deleting));
  return {
    workspace: { name: workspace.name, slug: workspace.slug },
    canWrite: write,
    types: ATTRIBUTE_TYPES.map((t) => ({ value: t, label: ATTRIBUTE_TYPE_LABELS[t] })),
    definitions,
    editing,
    deleting,
    missing,
  };
}

const NEEDS = {
  create: "contacts:write",
  update: "contacts:write",
  delete: "contacts:write",
} as const satisfies Record<string, Permission>;

export async function action(args: ActionFunctionArgs) {
  const formData = await args.request.formData();
  const { workspace, wctx, intent } = await requireWorkspaceIntent(args, formData, NEEDS);
  const page = `/w/${workspace.slug}/contacts/attributes`;
  switch (intent) {
    case "create":
      return submitForm(formData, Create, (value) => {
        const created = createAttributeDefinition(wctx, {
          ...value,
          options: lines(value.options),
        });
        return redirectWithFlash(page, `Attribute “${created.label}” added.`);
      });
    case "update":
      return submitForm(formData, Update, (value) => {
        updateAttributeDefinition(wctx, value.key, {
          label: value.label,
          options: lines(value.options),
        });
        return redirectWithFlash(page, "Attribute saved.");
      });
    case "delete":
      return submitForm(formData, Delete, (value) => {
        const { valuesCleared } = deleteAttributeDefinition(wctx, value.key);
        return redirectWithFlash(
          page,
          `Attribute deleted, with its value on ${valuesCleared.toLocaleString("en-US")} ${valuesCleared === 1 ? "contact" : "contacts"}.`,
        );
      });
  }
}

export default function AttributesPage() {
  const { workspace, canWrite, types, definitions, editing, deleting, missing } =
    useLoaderData<typeof loader>();
  const result = useActionData<typeof action>() as SubmissionResult<string[]> | undefined;
  const busy = useNavigation().state === "submitting";
  const follow = useFollowField("key", attributeKeyFromLabel);
  const intent = result?.initialValue?.intent;
  const errorsFor = (name: string) => (intent === name ? (result?.error ?? {}) : {});
  const created = errorsFor("create");
  const updated = errorsFor("update");
  const initial = (intent === "create" ? result?.initialValue : undefined) as
    Record<string, string> | undefined;
  const page = `/w/${workspace.slug}/contacts/attributes`;

  return (
    <>
      <PageHeader
        title="Contact attributes"
        description={
          <>
            Custom fields every contact can have, such as city or plan. Values are checked against
            the type on every save and import.{" "}
            <Link to={`/w/${workspace.slug}/contacts`}>Back to contacts</Link>
          </>
        }
      />

      {missing ? <FormErrors errors={["That attribute does not exist (any more)."]} /> : null}
      <FormErrors errors={errorsFor("delete")[""] ?? errorsFor("delete").key ?? undefined} />

      {deleting ? (
        <ConfirmCard
          id="delete-heading"
          title={<>Delete “{deleting.label}”?</>}
          action={page}
          intent="delete"
          fields={{ key: deleting.key }}
          confirmLabel="Delete attribute"
          cancelTo={page}
          busy={busy}
        >
          <p>
            The attribute <code>{deleting.key}</code> and its value on every contact are deleted.
            Segments that use it stop matching. This can&apos;t be undone.
          </p>
        </ConfirmCard>
      ) : null}

      {editing ? (
        <Card title={`Edit “${editing.label}”`}>
          <Form method="post" action={page}>
            <input type="hidden" name="intent" value="update" />
            <input type="hidden" name="key" value={editing.key} />
            <FormErrors errors={updated[""] ?? undefined} />
            <p className="field-hint">
              Key <code>{editing.key}</code>, type {editing.typeLabel}: these cannot change, since
              stored values depend on them.
            </p>
            <Field
              label="Label"
              name="label"
              defaultValue={editing.label}
              maxLength={80}
              errors={updated.label ?? undefined}
            />
            {editing.type === "choice" ? (
              <div className="field">
                <label htmlFor="edit-options">Allowed values, one per line</label>
                <textarea
                  id="edit-options"
                  name="options"
                  rows={6}
                  defaultValue={editing.options.join("\n")}
                />
                {updated.options ? (
                  <p className="field-error">{updated.options.join(" ")}</p>
                ) : null}
              </div>
            ) : null}
            <div className="filters-actions">
              <Button type="submit" disabled={busy}>
                Save
              </Button>
              <ButtonLink to={page}>Cancel</ButtonLink>
            </div>
          </Form>
        </Card>
      ) : null}

      <section className="admin-section" aria-labelledby="attributes-heading">
        <h2 id="attributes-heading">Attributes</h2>
        {definitions.length === 0 ? (
          <EmptyState title="No attributes yet">
            Add one below, then fill it in on contacts or map a CSV column to it when importing.
          </EmptyState>
        ) : (
          <div className="table-scroll">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Label</th>
                  <th scope="col">Key</th>
                  <th scope="col">Type</th>
                  <th scope="col">Allowed values</th>
                  <th scope="col">Added</th>
                  {canWrite ? <th scope="col">Actions</th> : null}
                </tr>
              </thead>
              <tbody>
                {definitions.map((d) => (
                  <tr key={d.key}>
                    <th scope="row">{d.label}</th>
                    <td>
                      <code>{d.key}</code>
                    </td>
                    <td>{d.typeLabel}</td>
                    <td>{d.type === "choice" ? d.options.join(", ") : ""}</td>
                    <td>{d.created}</td>
                    {canWrite ? (
                      <td>
                        <Link to={`${page}?edit=${d.key}`}>
                          Edit<span className="visually-hidden"> {d.label}</span>
                        </Link>{" "}
                        <Link to={`${page}?delete=${d.key}`}>
                          Delete…<span className="visually-hidden"> {d.label}</span>
                        </Link>
                      </td>
                    ) : null}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      {canWrite ? (
        <Card title="Add an attribute">
          <Form method="post" action={page}>
            <input type="hidden" name="intent" value="create" />
            <FormErrors errors={created[""] ?? undefined} />
            <Field
              label="Label"
              name="label"
              maxLength={80}
              defaultValue={initial?.label ?? ""}
              errors={created.label ?? undefined}
              hint="What people see, e.g. “Plan tier”."
              {...follow.source}
            />
            <Field
              label="Key"
              name="key"
              maxLength={40}
              autoComplete="off"
              spellCheck={false}
              defaultValue={initial?.key ?? ""}
              errors={created.key ?? undefined}
              hint="Used in imports, exports and segments. Filled in from the label; lower-case letters, digits and underscores, starting with a letter, e.g. plan_tier."
              {...follow.target}
            />
            <Select
              name="type"
              label="Type"
              options={types}
              defaultValue={initial?.type ?? "text"}
              errors={created.type ?? undefined}
            />
            <div className="field">
              <label htmlFor="create-options">
                Allowed values (for “One of a list”), one per line
              </label>
              <textarea
                id="create-options"
                name="options"
                rows={4}
                defaultValue={initial?.options ?? ""}
                aria-invalid={created.options ? true : undefined}
              />
              {created.options ? <p className="field-error">{created.options.join(" ")}</p> : null}
            </div>
            <Button type="submit" disabled={busy}>
              Add attribute
            </Button>
          </Form>
        </Card>
      ) : null}
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
