import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData, useNavigation } from "@remix-run/react";
import { z } from "zod";
import { can, type Permission } from "~/auth/permissions";
import { requireWorkspace, requireWorkspaceIntent } from "~/auth/workspace.server";
import { FormErrors, TextArea, useFormResult } from "~/components/form";
import { Button, ButtonLink } from "~/components/ui/button";
import { ConfirmCard } from "~/components/ui/confirm-card";
import { Field } from "~/components/ui/field";
import { Card, EmptyState, PageHeader } from "~/components/ui/layout";
import {
  countSnippets,
  createSnippet,
  deleteSnippet,
  listSnippets,
  searchKnowledge,
  SNIPPET_BODY_MAX,
  SNIPPET_TITLE_MAX,
  updateSnippet,
} from "~/domain/ai/knowledge.server";
import { redirectWithFlash } from "~/lib/flash.server";
import { submitForm } from "~/lib/form.server";
import { formatDateTime } from "~/lib/format";
import { parseId } from "~/lib/ids";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `Knowledge base — ${data?.workspace.name ?? "Workspace"} — Pleisys Engage` },
];

export const headers = () => ({ "Cache-Control": "no-store" });

const Snippet = z.object({ title: z.string().default(""), body: z.string().default("") });
const Update = Snippet.extend({ id: z.string({ error: "Which snippet?" }) });
const Delete = z.object({ id: z.string({ error: "Which snippet?" }) });

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, wctx, role } = await requireWorkspace(args, "inbox:read");
  const url = new URL(args.request.url);
  const q = (url.searchParams.get("q") ?? "").slice(0, 200).trim();
  const canEdit = can(role, "inbox:manage");
  const all = listSnippets(wctx);
  const shown = q ? searchKnowledge(wctx, q, 50) : all;
  const view = (s: (typeof all)[number]) => ({
    id: s.id,
    title: s.title,
    body: s.body,
    updated: formatDateTime(s.updatedAt, workspace.timezone),
  });
  const find = (param: string) => {
    const value = url.searchParams.get(param);
    if (!canEdit || !value) return null;
    const found = all.find((s) => String(s.id) === value);
    return found ? view(found) : null;
  };
  const editing = find("edit");
  const deleting = find("delete");
  const missing =
    canEdit &&
    ((url.searchParams.has("edit") && !editing) || (url.searchParams.has("delete") && !deleting));
  return {
    workspace: { name: workspace.name, slug: workspace.slug },
    canEdit,
    q,
    total: countSnippets(wctx),
    snippets: shown.map(view),
    editing,
    deleting,
    missing,
    limits: { title: SNIPPET_TITLE_MAX, body: SNIPPET_BODY_MAX },
  };
}

const NEEDS = {
  create: "inbox:manage",
  update: "inbox:manage",
  delete: "inbox:manage",
} as const satisfies Record<string, Permission>;

export async function action(args: ActionFunctionArgs) {
  const formData = await args.request.formData();
  const { workspace, wctx, intent } = await requireWorkspaceIntent(args, formData, NEEDS);
  const page = `/w/${workspace.slug}/settings/knowledge`;
  switch (intent) {
    case "create":
      return submitForm(formData, Snippet, (value) => {
        const created = createSnippet(wctx, value);
        return redirectWithFlash(page, `Snippet “${created.title}” added.`);
      });
    case "update":
      return submitForm(formData, Update, (value) => {
        updateSnippet(wctx, parseId(value.id, "Snippet"), value);
        return redirectWithFlash(page, "Snippet saved.");
      });
    case "delete":
      return submitForm(formData, Delete, (value) => {
        const deleted = deleteSnippet(wctx, parseId(value.id, "Snippet"));
        return redirectWithFlash(page, `Snippet “${deleted.title}” deleted.`);
      });
  }
}

export default function KnowledgePage() {
  const { workspace, canEdit, q, total, snippets, editing, deleting, missing, limits } =
    useLoaderData<typeof loader>();
  const busy = useNavigation().state === "submitting";
  const created = useFormResult("create");
  const updated = useFormResult("update");
  const deleted = useFormResult("delete");
  const createdValues = created?.initialValue as Record<string, string> | undefined;
  const page = `/w/${workspace.slug}/settings/knowledge`;

  return (
    <>
      <PageHeader
        title="Knowledge base"
        description={
          <>
            Short answers and facts about your business. AI reply drafts in the inbox are written
            from the snippets that best match what the customer asked, and name the ones they used.{" "}
            <Link to={`/w/${workspace.slug}/settings/ai`}>What the AI sees</Link>
          </>
        }
      />

      {missing ? <FormErrors errors={["That snippet does not exist (any more)."]} /> : null}
      <FormErrors errors={deleted?.error?.[""] ?? undefined} />

      {deleting ? (
        <ConfirmCard
          id="delete-heading"
          title={<>Delete “{deleting.title}”?</>}
          action={page}
          intent="delete"
          fields={{ id: deleting.id }}
          confirmLabel="Delete snippet"
          cancelTo={page}
          busy={busy}
        >
          <p>
            AI drafts stop drawing on it. Drafts that already cite it keep the citation without its
            title. This can&apos;t be undone.
          </p>
        </ConfirmCard>
      ) : null}

      {editing ? (
        <Card title={`Edit “${editing.title}”`}>
          <Form method="post" action={page}>
            <input type="hidden" name="intent" value="update" />
            <input type="hidden" name="id" value={editing.id} />
            <FormErrors errors={updated?.error?.[""] ?? undefined} />
            <Field
              label="Title"
              name="title"
              defaultValue={editing.title}
              maxLength={limits.title}
              errors={updated?.error?.title ?? undefined}
            />
            <TextArea
              name="body"
              label="Text"
              rows={8}
              defaultValue={editing.body}
              maxLength={limits.body}
              errors={updated?.error?.body ?? undefined}
              hint={`Up to ${limits.body.toLocaleString("en-US")} characters.`}
            />
            <div className="filters-actions">
              <Button type="submit" disabled={busy}>
                Save
              </Button>
              <ButtonLink to={page}>Cancel</ButtonLink>
            </div>
          </Form>
        </Card>
      ) : null}

      <section className="admin-section" aria-labelledby="snippets-heading">
        <h2 id="snippets-heading">Snippets</h2>
        {total > 0 ? (
          <Form method="get" action={page} className="filters" aria-label="Search the snippets">
            <Field
              label="Search"
              name="q"
              type="search"
              defaultValue={q}
              maxLength={200}
              hint="Any words; the best matches come first, as for AI drafts."
            />
            <div className="filters-actions">
              <Button type="submit">Search</Button>
              {q ? <ButtonLink to={page}>Clear</ButtonLink> : null}
            </div>
          </Form>
        ) : null}
        {total === 0 ? (
          <EmptyState title="No snippets yet">
            {canEdit
              ? "Add your opening hours, delivery and refund rules, prices: what customers ask most. AI drafts answer only from these and the conversation."
              : "An owner or admin can add the answers AI drafts draw on."}
          </EmptyState>
        ) : snippets.length === 0 ? (
          <EmptyState title="No snippet matches">
            No snippet uses any of the words “{q}”. <Link to={page}>Show all snippets</Link>
          </EmptyState>
        ) : (
          <div role="list" aria-label={q ? "Matching snippets" : "All snippets"}>
            {snippets.map((s) => (
              <article key={s.id} className="card" role="listitem">
                <h3 className="card-title">{s.title}</h3>
                <p className="message-preview">{s.body}</p>
                <p className="field-hint">
                  Snippet {s.id} · updated {s.updated}
                  {canEdit ? (
                    <>
                      {" · "}
                      <Link to={`${page}?edit=${s.id}`}>
                        Edit<span className="visually-hidden"> {s.title}</span>
                      </Link>
                      {" · "}
                      <Link to={`${page}?delete=${s.id}`}>
                        Delete…<span className="visually-hidden"> {s.title}</span>
                      </Link>
                    </>
                  ) : null}
                </p>
              </article>
            ))}
          </div>
        )}
      </section>

      {canEdit ? (
        <Card title="Add a snippet">
          <Form method="post" action={page}>
            <input type="hidden" name="intent" value="create" />
            <FormErrors errors={created?.error?.[""] ?? undefined} />
            <Field
              label="Title"
              name="title"
              maxLength={limits.title}
              defaultValue={createdValues?.title ?? ""}
              errors={created?.error?.title ?? undefined}
              hint="What it answers, e.g. “Delivery days and charges”."
            />
            <TextArea
              name="body"
              label="Text"
              rows={6}
              maxLength={limits.body}
              defaultValue={createdValues?.body ?? ""}
              errors={created?.error?.body ?? undefined}
              hint={`The facts, as you would tell a new colleague. Up to ${limits.body.toLocaleString("en-US")} characters.`}
            />
            <Button type="submit" disabled={busy}>
              Add snippet
            </Button>
          </Form>
        </Card>
      ) : null}
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
