import {
  MaxPartSizeExceededError,
  unstable_createMemoryUploadHandler,
  unstable_parseMultipartFormData,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from "@remix-run/node";
import { Form, Link, useLoaderData, useNavigation } from "@remix-run/react";
import { can, type Permission } from "~/auth/permissions";
import { requireWorkspace, requireWorkspaceIntent } from "~/auth/workspace.server";
import { FormErrors, useFormResult } from "~/components/form";
import { Button, ButtonLink } from "~/components/ui/button";
import { ConfirmCard } from "~/components/ui/confirm-card";
import { Field } from "~/components/ui/field";
import { Card, EmptyState, PageHeader } from "~/components/ui/layout";
import { MAX_ATTACHMENT_BYTES } from "~/domain/inbox/attachment-types.server";
import {
  deleteCannedResponse,
  listCannedResponses,
  MAX_CANNED_BODY,
  saveCannedResponse,
} from "~/domain/inbox/canned.server";
import { redirectWithFlash } from "~/lib/flash.server";
import { formFailure } from "~/lib/form.server";

/**
 * /w/<slug>/settings/canned-responses — replies agents insert with "/shortcut". Everyone who
 * reads the inbox sees the list; inbox managers add, edit (with attachments: a plain multipart
 * form, so it works without JavaScript) and delete.
 */

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `Canned responses — ${data?.workspace.name ?? "Workspace"} — Pleisys Engage` },
];

export const headers = () => ({ "Cache-Control": "no-store" });

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, wctx, role } = await requireWorkspace(args, "inbox:read");
  const url = new URL(args.request.url);
  const canManage = can(role, "inbox:manage");
  const responses = listCannedResponses(wctx).map((c) => ({
    id: c.id,
    shortcut: c.shortcut,
    title: c.title,
    body: c.body,
    preview: c.body.length > 140 ? `${c.body.slice(0, 139)}…` : c.body,
    prompts: c.prompts,
    attachments: c.attachments.map((a) => ({ id: a.id, filename: a.filename, kind: a.kind })),
  }));
  const find = (param: string) => {
    const id = Number(url.searchParams.get(param));
    return canManage ? (responses.find((r) => r.id === id) ?? null) : null;
  };
  return {
    workspace: { name: workspace.name, slug: workspace.slug },
    canManage,
    maxBody: MAX_CANNED_BODY,
    responses,
    editing: find("edit"),
    deleting: find("delete"),
    adding: canManage && url.searchParams.has("new"),
  };
}

const NEEDS = {
  save: "inbox:manage",
  delete: "inbox:manage",
} as const satisfies Record<string, Permission>;

const text = (formData: FormData, name: string) => {
  const value = formData.get(name);
  return typeof value === "string" ? value : "";
};

export async function action(args: ActionFunctionArgs) {
  // Only managers get as far as sending files: checked before the body is read.
  await requireWorkspace(args, "inbox:manage");
  let formData: FormData;
  try {
    formData = await unstable_parseMultipartFormData(
      args.request,
      unstable_createMemoryUploadHandler({ maxPartSize: MAX_ATTACHMENT_BYTES }),
    );
  } catch (error) {
    if (error instanceof MaxPartSizeExceededError) {
      return formFailure("A file is too large: attachments can be at most 16 MB (images 5 MB).", {
        status: 413,
      });
    }
    formData = await args.request.formData().catch(() => new FormData());
  }
  const { workspace, wctx, intent } = await requireWorkspaceIntent(args, formData, NEEDS);
  const page = `/w/${workspace.slug}/settings/canned-responses`;
  const fields = {
    intent,
    id: text(formData, "id"),
    shortcut: text(formData, "shortcut"),
    title: text(formData, "title"),
    body: text(formData, "body"),
  };
  const id = fields.id ? Number(fields.id) : undefined;
  try {
    switch (intent) {
      case "save": {
        const files = await Promise.all(
          formData
            .getAll("files")
            .filter((f): f is File => typeof f !== "string" && f.size > 0)
            .map(async (f) => ({ filename: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })),
        );
        const saved = saveCannedResponse(wctx, {
          ...(id !== undefined && Number.isInteger(id) ? { id } : {}),
          shortcut: fields.shortcut,
          title: fields.title,
          body: fields.body,
          keepAttachmentIds: formData.getAll("keep").filter((v) => typeof v === "string"),
          files,
        });
        return redirectWithFlash(page, `Canned response /${saved.shortcut} saved.`);
      }
      case "delete": {
        const deleted = deleteCannedResponse(wctx, Number(fields.id));
        return redirectWithFlash(page, `Canned response /${deleted.shortcut} deleted.`);
      }
    }
  } catch (error) {
    return formFailure(error, { fields });
  }
}

type Response = ReturnType<typeof useLoaderData<typeof loader>>["responses"][number];

function CannedForm({
  page,
  response,
  maxBody,
}: {
  page: string;
  response: Response | null;
  maxBody: number;
}) {
  const result = useFormResult();
  const busy = useNavigation().state === "submitting";
  const errors = result?.initialValue?.intent === "save" ? (result.error ?? {}) : {};
  const typed = (result?.initialValue ?? {}) as Record<string, string | undefined>;
  const value = (name: "shortcut" | "title" | "body") => typed[name] ?? response?.[name] ?? "";
  return (
    <Form method="post" action={page} encType="multipart/form-data">
      <input type="hidden" name="intent" value="save" />
      {response ? <input type="hidden" name="id" value={response.id} /> : null}
      <FormErrors errors={errors[""] ?? errors.form ?? undefined} />
      <Field
        label="Shortcut"
        name="shortcut"
        maxLength={30}
        autoComplete="off"
        spellCheck={false}
        defaultValue={value("shortcut")}
        errors={errors.shortcut ?? undefined}
        hint="Typed after / in the composer: lower-case letters, digits and hyphens, e.g. refund-policy."
      />
      <Field
        label="Title"
        name="title"
        maxLength={80}
        defaultValue={value("title")}
        errors={errors.title ?? undefined}
      />
      <div className="field">
        <label htmlFor="canned-body">Text</label>
        <textarea
          id="canned-body"
          name="body"
          rows={6}
          maxLength={maxBody}
          defaultValue={value("body")}
          aria-invalid={errors.body ? true : undefined}
          aria-describedby="canned-body-hint"
        />
        <p className="field-hint" id="canned-body-hint">
          Contact fields: {'{{ contact.first_name | default: "there" }}'}. A value typed each time
          it is used: {"{{ prompt: Order number }}"}.
        </p>
        {errors.body ? <p className="field-error">{errors.body.join(" ")}</p> : null}
      </div>
      {response && response.attachments.length > 0 ? (
        <fieldset className="field">
          <legend>Attachments (untick to remove)</legend>
          {response.attachments.map((a) => (
            <label key={a.id} className="checkbox">
              <input type="checkbox" name="keep" value={a.id} defaultChecked /> {a.filename}
            </label>
          ))}
        </fieldset>
      ) : null}
      <div className="field">
        <label htmlFor="canned-files">Add attachments</label>
        <input
          id="canned-files"
          type="file"
          name="files"
          multiple
          accept="image/jpeg,image/png,image/webp,application/pdf,.docx,.xlsx,.pptx,text/plain"
        />
        <p className="field-hint">
          JPEG, PNG or WEBP images up to 5 MB; PDF, Word, Excel, PowerPoint or text files up to 16
          MB. Sent as WhatsApp media; other channels cannot send attachments.
        </p>
        {errors.files ? <p className="field-error">{errors.files.join(" ")}</p> : null}
      </div>
      <div className="filters-actions">
        <Button type="submit" disabled={busy}>
          {response ? "Save" : "Add canned response"}
        </Button>
        <ButtonLink to={page}>Cancel</ButtonLink>
      </div>
    </Form>
  );
}

export default function CannedResponsesPage() {
  const { workspace, canManage, maxBody, responses, editing, deleting, adding } =
    useLoaderData<typeof loader>();
  const result = useFormResult();
  const busy = useNavigation().state === "submitting";
  const page = `/w/${workspace.slug}/settings/canned-responses`;
  const failedSave = result?.initialValue?.intent === "save";
  const deleteErrors = result?.initialValue?.intent === "delete" ? result.error?.[""] : undefined;
  const attachmentUrl = (id: string) => `/w/${workspace.slug}/inbox/attachments/${id}`;

  return (
    <>
      <PageHeader
        title="Canned responses"
        description="Saved replies your team inserts by typing / and the shortcut in the inbox composer."
        actions={
          canManage && !adding && !editing ? (
            <ButtonLink to={`${page}?new`}>New canned response</ButtonLink>
          ) : null
        }
      />
      <FormErrors errors={deleteErrors ?? undefined} />

      {deleting ? (
        <ConfirmCard
          id="delete-heading"
          title={<>Delete /{deleting.shortcut}?</>}
          action={page}
          encType="multipart/form-data"
          intent="delete"
          fields={{ id: deleting.id }}
          confirmLabel="Delete canned response"
          cancelTo={page}
          busy={busy}
        >
          <p>
            “{deleting.title}” and its attachments are deleted. Messages already sent with it stay
            as they are.
          </p>
        </ConfirmCard>
      ) : null}

      {canManage && (editing || adding || (failedSave && !editing)) ? (
        <Card title={editing ? `Edit /${editing.shortcut}` : "New canned response"}>
          <CannedForm page={page} response={editing} maxBody={maxBody} />
        </Card>
      ) : null}

      {responses.length === 0 ? (
        <EmptyState title="No canned responses yet">
          {canManage
            ? "Add one for the answers your team types again and again: opening hours, refund policy, order status."
            : "An inbox manager can add replies your team uses again and again."}
        </EmptyState>
      ) : (
        <div className="table-scroll">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Shortcut</th>
                <th scope="col">Title</th>
                <th scope="col">Text</th>
                <th scope="col">Attachments</th>
                {canManage ? <th scope="col">Actions</th> : null}
              </tr>
            </thead>
            <tbody>
              {responses.map((r) => (
                <tr key={r.id}>
                  <th scope="row">
                    <code>/{r.shortcut}</code>
                  </th>
                  <td>{r.title}</td>
                  <td>
                    {r.preview}
                    {r.prompts.length > 0 ? (
                      <p className="field-hint">Asks for: {r.prompts.join(", ")}</p>
                    ) : null}
                  </td>
                  <td>
                    {r.attachments.length === 0
                      ? "None"
                      : r.attachments.map((a) => (
                          <div key={a.id}>
                            <a href={attachmentUrl(a.id)} target="_blank" rel="noreferrer">
                              {a.filename}
                            </a>
                          </div>
                        ))}
                  </td>
                  {canManage ? (
                    <td>
                      <Link to={`${page}?edit=${r.id}`}>
                        Edit<span className="visually-hidden"> /{r.shortcut}</span>
                      </Link>{" "}
                      <Link to={`${page}?delete=${r.id}`}>
                        Delete…<span className="visually-hidden"> /{r.shortcut}</span>
                      </Link>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
