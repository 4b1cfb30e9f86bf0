import {
  data,
  redirect,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from "@remix-run/node";
import {
  Form,
  Link,
  useActionData,
  useLoaderData,
  useNavigation,
  useRevalidator,
} from "@remix-run/react";
import { useEffect } from "react";
import { requireWorkspace } from "~/auth/workspace.server";
import { FormErrors } from "~/components/form";
import { Alert } from "~/components/ui/alert";
import { Button, ButtonLink } from "~/components/ui/button";
import { Card, PageHeader } from "~/components/ui/layout";
import { listGroups } from "~/domain/contacts/groups.server";
import {
  CONTACT_FIELD_LABELS,
  DELIMITER_LABELS,
  ENCODING_LABELS,
} from "~/domain/contacts/import/csv-format.server";
import {
  cancelImport,
  getImportProgress,
  startImport,
} from "~/domain/contacts/import/supervisor.server";
import { getImportPreview } from "~/domain/contacts/import/uploads.server";
import {
  IMPORT_ATTRIBUTE_TYPES,
  NEW_ATTRIBUTE_FIELD,
  setMapping,
} from "~/domain/contacts/import/mapping.server";
import {
  isImportId,
  listImportErrors,
  listImportWarnings,
} from "~/domain/contacts/import/imports.server";
import { ATTRIBUTE_TYPE_LABELS } from "~/domain/contacts/attributes.server";
import { ON_EXISTING, ON_EXISTING_LABELS } from "~/domain/contacts/import/record-batches.server";
import { CHANNEL_LABELS, CHANNELS } from "~/lib/channels";
import { NotFoundError, ValidationError, type FieldErrors } from "~/lib/errors";
import { formatDateTime } from "~/lib/format";

/**
 * /w/<slug>/contacts/import/<id> — one import after its upload: the column mapping with a
 * preview of the first rows and guessed fields, the options, then live progress (rows done,
 * rows/s, time left; refreshed every second with JavaScript, every few seconds without), and
 * the final summary with the rejected rows. Everything is a plain form post.
 */

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `Import ${data?.progress.fileName ?? ""} — Pleisys Engage` },
];

export const headers = () => ({ "Cache-Control": "no-store" });

const ACTIVE = new Set(["queued", "running", "cancelling"]);

function importIdFrom(params: { importId?: string }): string {
  if (!isImportId(params.importId)) throw new NotFoundError("Import");
  return params.importId;
}

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, wctx } = await requireWorkspace(args, "contacts:write");
  const id = importIdFrom(args.params);
  const progress = getImportProgress(wctx, id);
  const tz = workspace.timezone;
  const preview = progress.status === "uploaded" ? await getImportPreview(wctx, id) : null;
  const finished = !ACTIVE.has(progress.status) && progress.status !== "uploaded";
  return {
    workspace: { name: workspace.name, slug: workspace.slug },
    progress: {
      id: progress.id,
      status: progress.status,
      fileName: progress.fileName,
      fileSize: progress.fileBytes,
      counts: progress.counts,
      error: progress.error,
      percent: progress.percent,
      rowsPerSecond: progress.rowsPerSecond,
      etaSeconds: progress.etaSeconds,
      estimatedRows: progress.format?.estimatedRows ?? 0,
      format: progress.format
        ? {
            encoding: ENCODING_LABELS[progress.format.encoding],
            delimiter: DELIMITER_LABELS[progress.format.delimiter],
          }
        : null,
      created: formatDateTime(progress.createdAt, tz),
      finished: progress.finishedAt ? formatDateTime(progress.finishedAt, tz) : null,
    },
    mapping: preview
      ? {
          headers: preview.headers,
          rows: preview.rows,
          fields: preview.mapping,
          fieldOptions: [
            ...Object.entries(CONTACT_FIELD_LABELS).map(([value, label]) => ({ value, label })),
            ...preview.definitions.map((d) => ({
              value: `attribute:${d.key}`,
              label: `Attribute: ${d.label}`,
            })),
            { value: NEW_ATTRIBUTE_FIELD, label: "Create attribute…" },
          ],
          attributeTypes: IMPORT_ATTRIBUTE_TYPES.map((type) => ({
            value: type,
            label: ATTRIBUTE_TYPE_LABELS[type],
          })),
          lists: listGroups(wctx, "list", { counts: false }).map((l) => ({
            id: l.id,
            name: l.name,
          })),
          onExisting: ON_EXISTING.map((option) => ({
            value: option,
            label: ON_EXISTING_LABELS[option],
          })),
        }
      : null,
    rejected: finished && progress.counts.errors > 0 ? listImportErrors(wctx, id, 20) : [],
    leftOut: finished && progress.counts.warnings > 0 ? listImportWarnings(wctx, id, 20) : [],
  };
}

interface ActionErrors {
  formErrors: string[];
  fieldErrors: FieldErrors;
  values: Record<string, string | string[]>;
}

function text(form: FormData, name: string): string {
  const value = form.get(name);
  return typeof value === "string" ? value : "";
}

export async function action(args: ActionFunctionArgs) {
  const { workspace, wctx } = await requireWorkspace(args, "contacts:write");
  const id = importIdFrom(args.params);
  const page = `/w/${workspace.slug}/contacts/import/${id}`;
  const form = await args.request.formData();
  const intent = text(form, "intent");
  if (intent === "cancel") {
    try {
      cancelImport(wctx, id);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      // Already finished: the page shows the outcome.
    }
    return redirect(page);
  }
  if (intent !== "start") {
    throw data({ message: "This form asked for something the page does not do." }, { status: 400 });
  }
  const mapping: string[] = [];
  for (let i = 0; form.has(`column.${i}`) && i < 1000; i++) mapping.push(text(form, `column.${i}`));
  // Every column has a label and type input; only those of "Create attribute…" columns count.
  const newAttributes = Object.fromEntries(
    mapping.flatMap((field, i) =>
      field === NEW_ATTRIBUTE_FIELD
        ? [[i, { label: text(form, `column.${i}.label`), type: text(form, `column.${i}.type`) }]]
        : [],
    ),
  );
  const listValue = text(form, "listId");
  const values: ActionErrors["values"] = {
    onExisting: text(form, "onExisting"),
    listId: listValue,
    newListName: text(form, "newListName"),
    tags: text(form, "tags"),
    consent: form.getAll("consent").map(String),
    consentSource: text(form, "consentSource"),
    ...Object.fromEntries(
      mapping.flatMap((m, i) => [
        [`column.${i}`, m],
        [`column.${i}.label`, text(form, `column.${i}.label`)],
        [`column.${i}.type`, text(form, `column.${i}.type`)],
      ]),
    ),
  };
  try {
    if (listValue && !/^[1-9]\d{0,14}$/.test(listValue)) {
      throw new ValidationError("Choose a list from the menu.", {
        listId: ["Choose a list from the menu."],
      });
    }
    setMapping(wctx, id, {
      mapping,
      newAttributes,
      onExisting: text(form, "onExisting"),
      listId: listValue ? Number(listValue) : null,
      newListName: text(form, "newListName"),
      tags: text(form, "tags").split(","),
      consentChannels: form.getAll("consent").map(String),
      consentSource: text(form, "consentSource"),
    });
    startImport(wctx, id);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const onFields = Object.keys(error.fieldErrors).length > 0;
    return data(
      {
        formErrors:
          onFields && error.message === "Check the highlighted columns." ? [] : [error.message],
        fieldErrors: error.fieldErrors,
        values,
      } satisfies ActionErrors,
      { status: 400 },
    );
  }
  return redirect(page);
}

function formatDuration(seconds: number | null): string {
  if (seconds === null) return "estimating…";
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

const n = (value: number) => value.toLocaleString("en-IN");

/** Reloads the page's data every second while the import runs (with JavaScript). */
function useAutoRefresh(active: boolean) {
  const revalidator = useRevalidator();
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => {
      if (revalidator.state === "idle" && document.visibilityState === "visible") {
        revalidator.revalidate();
      }
    }, 1000);
    return () => clearInterval(timer);
  }, [active, revalidator]);
}

export default function ImportPage() {
  const { workspace, progress, mapping, rejected, leftOut } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>() as ActionErrors | undefined;
  const active = ACTIVE.has(progress.status);
  useAutoRefresh(active);
  const base = `/w/${workspace.slug}/contacts/import`;
  const page = `${base}/${progress.id}`;
  return (
    <>
      <PageHeader
        title={`Import “${progress.fileName}”`}
        description={`Uploaded ${progress.created}${progress.format ? ` · ${progress.format.encoding}, ${progress.format.delimiter}-separated` : ""}`}
        actions={<Link to={base}>All imports</Link>}
      />
      {mapping ? (
        <MappingStep page={page} mapping={mapping} progress={progress} errors={actionData} />
      ) : active ? (
        <ProgressStep page={page} progress={progress} />
      ) : (
        <SummaryStep
          page={page}
          slug={workspace.slug}
          progress={progress}
          rejected={rejected}
          leftOut={leftOut}
        />
      )}
    </>
  );
}

type LoaderData = ReturnType<typeof useLoaderData<typeof loader>>;

function MappingStep({
  page,
  mapping,
  progress,
  errors,
}: {
  page: string;
  mapping: NonNullable<LoaderData["mapping"]>;
  progress: LoaderData["progress"];
  errors: ActionErrors | undefined;
}) {
  const navigation = useNavigation();
  const busy = navigation.state === "submitting";
  const values = errors?.values;
  const fieldErrors = errors?.fieldErrors ?? {};
  const value = (name: string, fallback: string) =>
    typeof values?.[name] === "string" ? (values[name] as string) : fallback;
  const consentChosen = new Set(Array.isArray(values?.consent) ? values.consent : []);
  // A wide file scrolls sideways: name the columns whose messages may be out of view.
  const columnsWithErrors = mapping.headers.filter((_, i) =>
    Object.keys(fieldErrors).some((k) => k === `column.${i}` || k.startsWith(`column.${i}.`)),
  );
  const columnsMessage = columnsWithErrors.length
    ? `Check ${columnsWithErrors.length === 1 ? "the column" : "the columns"} ${columnsWithErrors.map((h) => `“${h}”`).join(", ")}: the message is under ${columnsWithErrors.length === 1 ? "it" : "each"}.`
    : null;
  return (
    <Form method="post" action={page}>
      <FormErrors
        id="import-errors"
        errors={[...(errors?.formErrors ?? []), ...(columnsMessage ? [columnsMessage] : [])]}
      />
      <Card title="2. Match the columns">
        <p>
          About {n(progress.estimatedRows)} rows. Choose what each column holds; we guessed from the
          headers. Every contact needs an email address or a phone number; phone numbers without a
          country code are read as your workspace&apos;s country. To keep another column (a city, a
          birthday) on each contact, choose “Create attribute…” under it.
        </p>
        <div className="table-scroll">
          <table className="table import-preview">
            <thead>
              <tr>
                {mapping.headers.map((header, i) => (
                  <th key={i} scope="col" className="import-column">
                    <label htmlFor={`column-${i}`}>{header}</label>
                    <select
                      id={`column-${i}`}
                      name={`column.${i}`}
                      defaultValue={value(`column.${i}`, mapping.fields[i] ?? "ignore")}
                      aria-invalid={fieldErrors[`column.${i}`] ? true : undefined}
                      aria-describedby={
                        fieldErrors[`column.${i}`] ? `column-${i}-error` : undefined
                      }
                    >
                      {mapping.fieldOptions.map((o) => (
                        <option key={o.value} value={o.value}>
                          {o.label}
                        </option>
                      ))}
                    </select>
                    {fieldErrors[`column.${i}`] ? (
                      <p id={`column-${i}-error`} className="field-error">
                        {fieldErrors[`column.${i}`]!.join(" ")}
                      </p>
                    ) : null}
                    <NewAttributeFields
                      column={i}
                      header={header}
                      types={mapping.attributeTypes}
                      value={value}
                      fieldErrors={fieldErrors}
                    />
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {mapping.rows.map((row, r) => (
                <tr key={r}>
                  {mapping.headers.map((_, c) => (
                    <td key={c}>{row[c] ?? ""}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <p className="field-hint">The first {mapping.rows.length} rows of the file.</p>
      </Card>

      <Card title="3. Options">
        <fieldset className="field">
          <legend>People already in your contacts (same email or phone)</legend>
          {mapping.onExisting.map((option) => (
            <div key={option.value} className="field-checkbox">
              <input
                type="radio"
                id={`on-existing-${option.value}`}
                name="onExisting"
                value={option.value}
                defaultChecked={value("onExisting", "update") === option.value}
              />
              <label htmlFor={`on-existing-${option.value}`}>{option.label}</label>
            </div>
          ))}
          {fieldErrors.onExisting ? (
            <p className="field-error">{fieldErrors.onExisting.join(" ")}</p>
          ) : null}
        </fieldset>

        <div className="field">
          <label htmlFor="import-list">Add everyone to a list</label>
          <select id="import-list" name="listId" defaultValue={value("listId", "")}>
            <option value="">No list</option>
            {mapping.lists.map((l) => (
              <option key={l.id} value={String(l.id)}>
                {l.name}
              </option>
            ))}
          </select>
          {fieldErrors.listId ? (
            <p className="field-error">{fieldErrors.listId.join(" ")}</p>
          ) : null}
        </div>
        <div className="field">
          <label htmlFor="import-new-list">…or a new list named</label>
          <input
            id="import-new-list"
            name="newListName"
            type="text"
            maxLength={60}
            defaultValue={value("newListName", "")}
          />
        </div>
        <div className="field">
          <label htmlFor="import-tags">Tags</label>
          <input
            id="import-tags"
            name="tags"
            type="text"
            maxLength={700}
            defaultValue={value("tags", "")}
            aria-describedby="import-tags-hint"
          />
          <p id="import-tags-hint" className="field-hint">
            Separate tags with commas, for example “diwali-2024, walk-in”. New tags are created.
          </p>
          {fieldErrors.tags ? <p className="field-error">{fieldErrors.tags.join(" ")}</p> : null}
        </div>

        <fieldset className="field">
          <legend>Consent to record (optional)</legend>
          <p className="field-hint">
            Only tick a channel if these people agreed to hear from you there. People on your
            suppression list (unsubscribed, erased, bounced) are left out of the import and stay
            unsubscribed; consent someone has withdrawn is never granted again by an import.
          </p>
          {CHANNELS.map((channel) => (
            <div key={channel} className="field-checkbox">
              <input
                type="checkbox"
                id={`consent-${channel}`}
                name="consent"
                value={channel}
                defaultChecked={consentChosen.has(channel)}
              />
              <label htmlFor={`consent-${channel}`}>{CHANNEL_LABELS[channel]}</label>
            </div>
          ))}
          {fieldErrors.consent ? (
            <p className="field-error">{fieldErrors.consent.join(" ")}</p>
          ) : null}
          <div className="field">
            <label htmlFor="consent-source">Where did they give consent?</label>
            <input
              id="consent-source"
              name="consentSource"
              type="text"
              maxLength={200}
              defaultValue={value("consentSource", "")}
              aria-invalid={fieldErrors.consentSource ? true : undefined}
              aria-describedby="consent-source-hint"
            />
            <p id="consent-source-hint" className="field-hint">
              Required with any channel, for example “signed up on website form” or “opted in at the
              store counter”. It is stored with each consent as proof.
            </p>
            {fieldErrors.consentSource ? (
              <p className="field-error">{fieldErrors.consentSource.join(" ")}</p>
            ) : null}
          </div>
        </fieldset>
      </Card>

      <div className="inline-form">
        <Button type="submit" name="intent" value="start" disabled={busy}>
          Start import
        </Button>
        <Button type="submit" name="intent" value="cancel" variant="secondary" formNoValidate>
          Discard this upload
        </Button>
      </div>
    </Form>
  );
}

/**
 * The label and type of the attribute a column creates. Shown (by CSS) only while the column's
 * menu says "Create attribute…"; the server ignores them for other columns, so this works
 * without JavaScript.
 */
function NewAttributeFields({
  column,
  header,
  types,
  value,
  fieldErrors,
}: {
  column: number;
  header: string;
  types: { value: string; label: string }[];
  value: (name: string, fallback: string) => string;
  fieldErrors: FieldErrors;
}) {
  const labelName = `column.${column}.label`;
  const typeName = `column.${column}.type`;
  const labelError = fieldErrors[labelName];
  const typeError = fieldErrors[typeName];
  return (
    <div className="import-new-attribute">
      <label htmlFor={`column-${column}-label`}>New attribute label</label>
      <input
        id={`column-${column}-label`}
        name={labelName}
        type="text"
        maxLength={80}
        defaultValue={value(labelName, header)}
        aria-invalid={labelError ? true : undefined}
        aria-describedby={labelError ? `column-${column}-label-error` : undefined}
      />
      {labelError ? (
        <p id={`column-${column}-label-error`} className="field-error">
          {labelError.join(" ")}
        </p>
      ) : null}
      <label htmlFor={`column-${column}-type`}>Type</label>
      <select
        id={`column-${column}-type`}
        name={typeName}
        defaultValue={value(typeName, "text")}
        aria-invalid={typeError ? true : undefined}
        aria-describedby={typeError ? `column-${column}-type-error` : undefined}
      >
        {types.map((t) => (
          <option key={t.value} value={t.value}>
            {t.label}
          </option>
        ))}
      </select>
      {typeError ? (
        <p id={`column-${column}-type-error`} className="field-error">
          {typeError.join(" ")}
        </p>
      ) : null}
    </div>
  );
}

function ProgressStep({ page, progress }: { page: string; progress: LoaderData["progress"] }) {
  const c = progress.counts;
  const waiting = progress.status === "queued";
  return (
    <Card
      title={
        progress.status === "cancelling"
          ? "Cancelling…"
          : waiting
            ? "Waiting to start"
            : "Importing…"
      }
    >
      {/* Without JavaScript the page reloads itself every 3 seconds. */}
      <noscript>
        <meta httpEquiv="refresh" content="3" />
      </noscript>
      {waiting ? <p>Another import is running; this one starts as soon as it ends.</p> : null}
      <label htmlFor="import-progress">
        {n(c.rowsDone)} of about {n(Math.max(progress.estimatedRows, c.rowsDone))} rows (
        {progress.percent}%)
      </label>
      <progress id="import-progress" max={100} value={progress.percent}>
        {progress.percent}%
      </progress>
      <dl className="import-stats">
        <div>
          <dt>Speed</dt>
          <dd>{progress.rowsPerSecond !== null ? `${n(progress.rowsPerSecond)} rows/s` : "—"}</dd>
        </div>
        <div>
          <dt>Time left</dt>
          <dd>{formatDuration(progress.etaSeconds)}</dd>
        </div>
        <div>
          <dt>New</dt>
          <dd>{n(c.imported)}</dd>
        </div>
        <div>
          <dt>Updated</dt>
          <dd>{n(c.updated)}</dd>
        </div>
        <div>
          <dt>Rejected</dt>
          <dd>{n(c.errors)}</dd>
        </div>
      </dl>
      <p className="field-hint">
        You can leave this page: the import goes on, and its progress is here when you come back.{" "}
        <Link to={page}>Refresh</Link>
      </p>
      {progress.status !== "cancelling" ? (
        <Form method="post" action={page}>
          <input type="hidden" name="intent" value="cancel" />
          <Button type="submit" variant="danger">
            Cancel import
          </Button>
          <p className="field-hint">Contacts imported before you cancel stay in your contacts.</p>
        </Form>
      ) : null}
    </Card>
  );
}

const OUTCOME: Record<string, { tone: "success" | "warning" | "error"; title: string }> = {
  completed: { tone: "success", title: "Import complete" },
  cancelled: { tone: "warning", title: "Import cancelled" },
  failed: { tone: "error", title: "Import stopped" },
};

function SummaryStep({
  page,
  slug,
  progress,
  rejected,
  leftOut,
}: {
  page: string;
  slug: string;
  progress: LoaderData["progress"];
  rejected: LoaderData["rejected"];
  leftOut: LoaderData["leftOut"];
}) {
  const c = progress.counts;
  const outcome = OUTCOME[progress.status] ?? OUTCOME.failed!;
  return (
    <>
      <Alert tone={outcome.tone} title={outcome.title}>
        {progress.error ? <p>{progress.error}</p> : null}
        {progress.status !== "completed" && !progress.error ? (
          <p>Contacts imported before it stopped stay in your contacts.</p>
        ) : null}
      </Alert>
      <Card title="Summary">
        <table className="table import-summary">
          <tbody>
            <tr>
              <th scope="row">Rows read</th>
              <td>{n(c.rowsDone)}</td>
            </tr>
            <tr>
              <th scope="row">New contacts</th>
              <td>{n(c.imported)}</td>
            </tr>
            <tr>
              <th scope="row">Existing contacts updated</th>
              <td>{n(c.updated)}</td>
            </tr>
            <tr>
              <th scope="row">Skipped (already there, nothing to change)</th>
              <td>{n(c.skipped)}</td>
            </tr>
            <tr>
              <th scope="row">Left out: on your suppression list</th>
              <td>{n(c.suppressed)}</td>
            </tr>
            <tr>
              <th scope="row">Rejected rows</th>
              <td>{n(c.errors)}</td>
            </tr>
            {c.warnings > 0 ? (
              <tr>
                <th scope="row">Imported with warnings (a value left out)</th>
                <td>{n(c.warnings)}</td>
              </tr>
            ) : null}
          </tbody>
        </table>
        {progress.finished ? <p className="field-hint">Finished {progress.finished}.</p> : null}
      </Card>
      {c.errors > 0 ? (
        <Card title="Rejected rows">
          <p>
            These rows were not imported. Fix them in your file and import it again (choose “Update”
            so the rows already imported are not duplicated).
          </p>
          <p>
            <a href={`${page}/rejected.csv`} download>
              Download rejected rows (CSV)
            </a>
          </p>
          <div className="table-scroll">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Row</th>
                  <th scope="col">Column</th>
                  <th scope="col">Reason</th>
                </tr>
              </thead>
              <tbody>
                {rejected.map((r, i) => (
                  <tr key={i}>
                    <td>{r.row}</td>
                    <td>{r.column}</td>
                    <td>{r.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {c.errors > rejected.length ? (
            <p className="field-hint">The first {rejected.length} are shown; the CSV has all.</p>
          ) : null}
        </Card>
      ) : null}
      {c.warnings > 0 ? (
        <Card title="Imported with warnings">
          <p>
            These rows were imported without the value named here, which could not be used. The
            contact has the row&apos;s other values; add the missing one on the contact&apos;s page.
          </p>
          <div className="table-scroll">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Row</th>
                  <th scope="col">Column left out</th>
                  <th scope="col">Reason</th>
                </tr>
              </thead>
              <tbody>
                {leftOut.map((r, i) => (
                  <tr key={i}>
                    <td>{r.row}</td>
                    <td>{r.column}</td>
                    <td>{r.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {c.warnings > leftOut.length ? (
            <p className="field-hint">The first {leftOut.length} are shown.</p>
          ) : null}
        </Card>
      ) : null}
      <div className="inline-form">
        <ButtonLink to={`/w/${slug}/contacts`} variant="primary">
          Go to contacts
        </ButtonLink>
        <ButtonLink to={`/w/${slug}/contacts/import`}>Import another file</ButtonLink>
      </div>
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
