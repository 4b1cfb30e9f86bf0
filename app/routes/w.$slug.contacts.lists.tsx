import type { SubmissionResult } from "@conform-to/react";
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { z } from "zod";
import { can, type Permission } from "~/auth/permissions";
import { requireWorkspace, requireWorkspaceIntent } from "~/auth/workspace.server";
import { FormErrors } from "~/components/form";
import { Button, ButtonLink } from "~/components/ui/button";
import { ConfirmCard } from "~/components/ui/confirm-card";
import { Field } from "~/components/ui/field";
import { Card, EmptyState, PageHeader } from "~/components/ui/layout";
import { createGroup, deleteGroup, listGroups, renameGroup } from "~/domain/contacts/groups.server";
import { redirectWithFlash } from "~/lib/flash.server";
import { submitForm } from "~/lib/form.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `Tags and lists — ${data?.workspace.name ?? "Workspace"} — Pleisys Engage` },
];

export const headers = () => ({ "Cache-Control": "no-store" });

const name = z
  .string({ error: "Enter a name." })
  .trim()
  .min(1, "Enter a name.")
  .max(60, "Use at most 60 characters.");
const id = z.coerce
  .number({ error: "Choose one from the table." })
  .int("Choose one from the table.")
  .positive("Choose one from the table.")
  .max(Number.MAX_SAFE_INTEGER, "Choose one from the table.");

const Create = z.object({ kind: z.enum(["tag", "list"]), name });
const Rename = z.object({ kind: z.enum(["tag", "list"]), id, name });
const Delete = z.object({ kind: z.enum(["tag", "list"]), id });

type Kind = "tag" | "list";

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, wctx, role } = await requireWorkspace(args, "contacts:read");
  const url = new URL(args.request.url);
  const write = can(role, "contacts:write");
  const tags = listGroups(wctx, "tag").map((t) => ({
    id: t.id,
    name: t.name,
    contacts: t.contacts,
  }));
  const lists = listGroups(wctx, "list").map((l) => ({
    id: l.id,
    name: l.name,
    contacts: l.contacts,
  }));
  const pick = (param: string, kind: Kind) => {
    const value = url.searchParams.get(param);
    const [k, raw] = value?.split(":") ?? [];
    if (!write || k !== kind || !raw) return null;
    const group = (kind === "tag" ? tags : lists).find((g) => String(g.id) === raw);
    return group ? { kind, ...group } : null;
  };
  const deleting = pick("delete", "tag") ?? pick("delete", "list");
  const renaming = pick("rename", "tag") ?? pick("rename", "list");
  const asked = url.searchParams.has("delete") || url.searchParams.has("rename");
  return {
    workspace: { name: workspace.name, slug: workspace.slug },
    canWrite: write,
    tags,
    lists,
    deleting,
    renaming,
    notFound: write && asked && !deleting && !renaming,
  };
}

const NEEDS = {
  create: "contacts:write",
  rename: "contacts:write",
  delete: "contacts:write",
} as const satisfies Record<string, Permission>;

export async function action(args: ActionFunctionArgs) {
  const formData = await args.request.formData();
  const { workspace, wctx, intent } = await requireWorkspaceIntent(args, formData, NEEDS);
  const page = `/w/${workspace.slug}/contacts/lists`;
  const word = (kind: Kind) => (kind === "tag" ? "Tag" : "List");
  switch (intent) {
    case "create":
      return submitForm(formData, Create, (value) => {
        const created =
          value.kind === "tag"
            ? createGroup(wctx, "tag", value.name)
            : createGroup(wctx, "list", value.name);
        return redirectWithFlash(page, `${word(value.kind)} “${created.name}” created.`);
      });
    case "rename":
      return submitForm(formData, Rename, (value) => {
        if (value.kind === "tag") renameGroup(wctx, "tag", value.id, value.name);
        else renameGroup(wctx, "list", value.id, value.name);
        return redirectWithFlash(page, `${word(value.kind)} renamed.`);
      });
    case "delete":
      return submitForm(formData, Delete, (value) => {
        if (value.kind === "tag") deleteGroup(wctx, "tag", value.id);
        else deleteGroup(wctx, "list", value.id);
        return redirectWithFlash(
          page,
          `${word(value.kind)} deleted. The contacts themselves are not affected.`,
        );
      });
  }
}

export default function TagsAndListsPage() {
  const d = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>() as SubmissionResult<string[]> | undefined;
  const busy = useNavigation().state === "submitting";
  const intent = result?.initialValue?.intent;
  const kindOf = result?.initialValue?.kind;
  const errorsFor = (name: string, kind: Kind) =>
    intent === name && kindOf === kind ? (result?.error ?? {}) : {};
  const page = `/w/${d.workspace.slug}/contacts/lists`;
  const contactsPage = `/w/${d.workspace.slug}/contacts`;

  const section = (kind: Kind, groups: typeof d.tags) => {
    const plural = kind === "tag" ? "Tags" : "Lists";
    const create = errorsFor("create", kind);
    const rowErrors = [
      ...Object.values(errorsFor("rename", kind)),
      ...Object.values(errorsFor("delete", kind)),
    ].flatMap((m) => m ?? []);
    return (
      <section className="admin-section" aria-labelledby={`${kind}s-heading`}>
        <h2 id={`${kind}s-heading`}>
          {plural} <span className="muted-count">({groups.length})</span>
        </h2>
        <p className="muted">
          {kind === "tag"
            ? "Labels you put on contacts, by hand or when importing; a contact can have many."
            : "Named groups of contacts, such as a newsletter audience; campaigns can target a list."}
        </p>
        <FormErrors errors={rowErrors} />
        {groups.length === 0 ? (
          <EmptyState title={`No ${plural.toLowerCase()} yet`} />
        ) : (
          <div className="table-scroll">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Contacts</th>
                  {d.canWrite ? <th scope="col">Actions</th> : null}
                </tr>
              </thead>
              <tbody>
                {groups.map((g) => (
                  <tr key={g.id}>
                    <th scope="row">{g.name}</th>
                    <td>
                      <Link to={`${contactsPage}?${kind}=${g.id}`}>
                        {g.contacts.toLocaleString("en-US")}
                        <span className="visually-hidden"> contacts in {g.name}</span>
                      </Link>
                    </td>
                    {d.canWrite ? (
                      <td>
                        <Link to={`${page}?rename=${kind}:${g.id}`}>
                          Rename<span className="visually-hidden"> {g.name}</span>
                        </Link>{" "}
                        <Link to={`${page}?delete=${kind}:${g.id}`}>
                          Delete…<span className="visually-hidden"> {g.name}</span>
                        </Link>
                      </td>
                    ) : null}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {d.canWrite ? (
          <Form method="post" action={page} className="filters">
            <input type="hidden" name="intent" value="create" />
            <input type="hidden" name="kind" value={kind} />
            <Field
              label={`New ${kind} name`}
              name="name"
              maxLength={60}
              autoComplete="off"
              errors={[...(create.name ?? []), ...(create[""] ?? [])]}
            />
            <div className="filters-actions">
              <Button type="submit" variant="secondary" disabled={busy}>
                Create {kind}
              </Button>
            </div>
          </Form>
        ) : null}
      </section>
    );
  };

  return (
    <>
      <PageHeader
        title="Tags and lists"
        description={
          <>
            Group contacts to filter them and to target campaigns.{" "}
            <Link to={contactsPage}>Back to contacts</Link>
          </>
        }
      />
      {d.notFound ? <FormErrors errors={["That tag or list does not exist (any more)."]} /> : null}

      {d.deleting ? (
        <ConfirmCard
          id="delete-heading"
          title={
            <>
              Delete the {d.deleting.kind} “{d.deleting.name}”?
            </>
          }
          action={page}
          intent="delete"
          fields={{ kind: d.deleting.kind, id: d.deleting.id }}
          confirmLabel={`Delete ${d.deleting.kind}`}
          cancelTo={page}
          busy={busy}
        >
          <p>
            It is taken off {d.deleting.contacts.toLocaleString("en-US")}{" "}
            {d.deleting.contacts === 1 ? "contact" : "contacts"}; the contacts themselves stay.
            Campaigns and segments that use it stop matching. This can&apos;t be undone.
          </p>
        </ConfirmCard>
      ) : null}

      {d.renaming ? (
        <Card title={`Rename the ${d.renaming.kind} “${d.renaming.name}”`}>
          <Form method="post" action={page}>
            <input type="hidden" name="intent" value="rename" />
            <input type="hidden" name="kind" value={d.renaming.kind} />
            <input type="hidden" name="id" value={d.renaming.id} />
            <Field label="New name" name="name" maxLength={60} defaultValue={d.renaming.name} />
            <div className="filters-actions">
              <Button type="submit" disabled={busy}>
                Rename
              </Button>
              <ButtonLink to={page}>Cancel</ButtonLink>
            </div>
          </Form>
        </Card>
      ) : null}

      {section("list", d.lists)}
      {section("tag", d.tags)}
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
