import {
  MaxPartSizeExceededError,
  redirect,
  unstable_createMemoryUploadHandler,
  unstable_parseMultipartFormData,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
  type UploadHandler,
} from "@remix-run/node";
import { Form, Link, useLoaderData, useNavigation } from "@remix-run/react";
import { requireWorkspace } from "~/auth/workspace.server";
import { FormErrors, useFormResult } from "~/components/form";
import { Button } from "~/components/ui/button";
import { Card, EmptyState, PageHeader } from "~/components/ui/layout";
import {
  createImport,
  discardUpload,
  formatMegabytes,
  ImportTooLargeError,
  importUploadLimit,
} from "~/domain/contacts/import/uploads.server";
import { listImports } from "~/domain/contacts/import/supervisor.server";
import { AppError, isAppError } from "~/lib/errors";
import { formatDateTime } from "~/lib/format";
import { formFailure } from "~/lib/form.server";

/**
 * /w/<slug>/contacts/import — step 1 of an import: upload a CSV file (a plain multipart form,
 * so it works without JavaScript). The file is streamed to disk as it arrives, never held in
 * memory; the next step (w.$slug.contacts.import_.$importId.tsx) maps its columns.
 */

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `Import contacts — ${data?.workspace.name ?? "Workspace"} — Pleisys Engage` },
];

export const headers = () => ({ "Cache-Control": "no-store" });

const STATUS_LABELS: Record<string, string> = {
  uploaded: "Waiting for column mapping",
  queued: "Waiting to start",
  running: "Importing",
  cancelling: "Cancelling",
  cancelled: "Cancelled",
  completed: "Completed",
  failed: "Failed",
};

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, wctx } = await requireWorkspace(args, "contacts:write");
  const tz = workspace.timezone;
  return {
    workspace: { name: workspace.name, slug: workspace.slug },
    limit: formatMegabytes(importUploadLimit()),
    imports: listImports(wctx, { limit: 10 }).map((i) => ({
      id: i.id,
      fileName: i.fileName,
      status: i.status,
      statusLabel: STATUS_LABELS[i.status] ?? i.status,
      created: formatDateTime(i.createdAt, tz),
      createdIso: i.createdAt.toISOString(),
      rows: i.counts.rowsDone,
      imported: i.counts.imported,
      updated: i.counts.updated,
      errors: i.counts.errors,
    })),
  };
}

/** The upload form: a file and a few small fields. */
const MAX_PARTS = 20;
const MAX_FIELD_BYTES = 64 * 1024;

class FormTooLargeError extends AppError {
  constructor() {
    super(
      `The form has too many fields or too much text besides the file (at most ${MAX_PARTS} fields and ${MAX_FIELD_BYTES / 1024} KB). Upload the CSV file on its own.`,
      413,
      "form_too_large",
    );
  }
}

export async function action(args: ActionFunctionArgs) {
  const { workspace, wctx } = await requireWorkspace(args, "contacts:write");
  const { request } = args;
  const type = request.headers.get("content-type") ?? "";
  if (!type.toLowerCase().startsWith("multipart/form-data")) {
    return formFailure("Choose a CSV file to upload.");
  }
  const limit = importUploadLimit();
  const length = Number(request.headers.get("content-length") ?? "0");
  // The form around the file adds a few hundred bytes; refuse early what can't fit.
  if (length > limit + 64 * 1024) return formFailure(new ImportTooLargeError(limit));

  let importId: string | null = null;
  const fileHandler: UploadHandler = async ({ name, filename, data: bytes }) => {
    // Other fields, an empty file input, or a second file: left to the small memory handler.
    if (name !== "file" || !filename || importId !== null) return undefined;
    const created = await createImport(wctx, { fileName: filename, data: bytes });
    importId = created.import.id;
    return importId;
  };
  // The form has one file and a few small fields; a body of thousands of tiny parts would
  // otherwise all be parsed and held in memory.
  let parts = 0;
  let fieldBytes = 0;
  async function* countedField(bytes: AsyncIterable<Uint8Array>) {
    for await (const chunk of bytes) {
      fieldBytes += chunk.byteLength;
      if (fieldBytes > MAX_FIELD_BYTES) throw new FormTooLargeError();
      yield chunk;
    }
  }
  const memoryHandler = unstable_createMemoryUploadHandler({ maxPartSize: 16 * 1024 });
  const handler: UploadHandler = async (part) => {
    parts += 1;
    if (parts > MAX_PARTS) throw new FormTooLargeError();
    return (await fileHandler(part)) ?? memoryHandler({ ...part, data: countedField(part.data) });
  };
  try {
    await unstable_parseMultipartFormData(request, handler);
  } catch (error) {
    // Nothing half-way: an upload stored before the form was refused is dropped again.
    if (importId) discardUpload(wctx, importId);
    if (isAppError(error) && error.status < 500) return formFailure(error);
    if (error instanceof MaxPartSizeExceededError)
      return formFailure("The form is too large.", { status: 413 });
    throw error;
  }
  if (!importId) return formFailure("Choose a CSV file to upload.");
  return redirect(`/w/${workspace.slug}/contacts/import/${importId}`);
}

export default function ImportUploadPage() {
  const { workspace, limit, imports } = useLoaderData<typeof loader>();
  const result = useFormResult();
  const navigation = useNavigation();
  const busy = navigation.state === "submitting";
  const base = `/w/${workspace.slug}/contacts/import`;
  return (
    <>
      <PageHeader
        title="Import contacts"
        description="Upload a CSV file of your contacts. Next you choose which column is which, and what happens to people already in your contacts."
        actions={<Link to={`/w/${workspace.slug}/contacts`}>Back to contacts</Link>}
      />
      <Card title="1. Upload a CSV file">
        <Form method="post" encType="multipart/form-data" action={base}>
          <FormErrors errors={result?.error?.[""] ?? undefined} />
          <div className="field">
            <label htmlFor="import-file">CSV file</label>
            <input
              id="import-file"
              type="file"
              name="file"
              accept=".csv,.tsv,.txt,text/csv,text/plain,text/tab-separated-values"
              required
              aria-describedby="import-file-hint"
            />
            <p id="import-file-hint" className="field-hint">
              Up to {limit}. The first row must name the columns (for example Name, Email, Mobile
              No.). Comma, semicolon and tab separated files work, in UTF-8, UTF-16 or Windows
              encoding; exports from Excel and Google Sheets are fine.
            </p>
          </div>
          <p className="field-hint">
            <a href="/samples/cafe-contacts-sample.csv" download>
              Download a sample CSV
            </a>
            : eight café customers with Name, Phone, Email, City and Tags columns. Name, Phone,
            Email and Tags are matched for you; City goes to an attribute called City if you have
            one.
          </p>
          <Button type="submit" disabled={busy}>
            {busy ? "Uploading…" : "Upload and continue"}
          </Button>
        </Form>
      </Card>

      <section className="admin-section" aria-labelledby="imports-heading">
        <h2 id="imports-heading">Recent imports</h2>
        {imports.length === 0 ? (
          <EmptyState title="No imports yet">
            Your imports and their results appear here.
          </EmptyState>
        ) : (
          <div className="table-scroll">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">File</th>
                  <th scope="col">Uploaded</th>
                  <th scope="col">Status</th>
                  <th scope="col">Rows</th>
                  <th scope="col">New</th>
                  <th scope="col">Updated</th>
                  <th scope="col">Rejected</th>
                </tr>
              </thead>
              <tbody>
                {imports.map((i) => (
                  <tr key={i.id}>
                    <th scope="row">
                      <Link to={`${base}/${i.id}`}>{i.fileName}</Link>
                    </th>
                    <td>
                      <time dateTime={i.createdIso}>{i.created}</time>
                    </td>
                    <td>{i.statusLabel}</td>
                    <td>{i.rows.toLocaleString("en-IN")}</td>
                    <td>{i.imported.toLocaleString("en-IN")}</td>
                    <td>{i.updated.toLocaleString("en-IN")}</td>
                    <td>{i.errors.toLocaleString("en-IN")}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
