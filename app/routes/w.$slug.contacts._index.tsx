import {
  data,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { useEffect, useRef, useState } from "react";
import { can, type Permission } from "~/auth/permissions";
import { requireWorkspace, requireWorkspaceIntent } from "~/auth/workspace.server";
import { Checkbox, FormErrors, Select } from "~/components/form";
import { Button, ButtonLink } from "~/components/ui/button";
import { Field } from "~/components/ui/field";
import { EmptyState, PageHeader } from "~/components/ui/layout";
import {
  formatAttributeValue,
  listAttributeDefinitions,
} from "~/domain/contacts/attributes.server";
import {
  bulkChangeMembership,
  bulkDelete,
  bulkExport,
  countSelection,
  MAX_TICKED,
  type BulkSelection,
} from "~/domain/contacts/bulk.server";
import {
  countContacts,
  listContacts,
  SEARCH_FIELDS,
  type ContactFilters,
  type SearchField,
} from "~/domain/contacts/search.server";
import { listGroups } from "~/domain/contacts/groups.server";
import { COUNTRY_CODES, countryName } from "~/domain/workspaces/options";
import { CHANNEL_LABELS, CHANNELS, type Channel } from "~/lib/channels";
import { ValidationError } from "~/lib/errors";
import { redirectWithFlash } from "~/lib/flash.server";
import { formFailure } from "~/lib/form.server";
import { resultMessages, submittedOf, type FormResult } from "~/lib/form-result";
import { formatDateTime, formatDateTimeCompact } from "~/lib/format";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `Contacts — ${data?.workspace.name ?? "Workspace"} — Pleisys Engage` },
];

export const headers = () => ({ "Cache-Control": "no-store" });

const PAGE_SIZE = 50;

const FIXED_COLUMNS = [
  { id: "email", label: "Email" },
  { id: "phone", label: "Phone" },
  { id: "country", label: "Country" },
  { id: "tags", label: "Tags" },
  { id: "lists", label: "Lists" },
  { id: "created", label: "Created" },
  { id: "updated", label: "Last changed" },
] as const;
const DEFAULT_COLUMNS = ["email", "phone", "tags", "created"];
/** Columns that give way first on narrower screens (name and email always stay). */
const COLUMN_PRIORITY: Record<string, "col-low" | "col-medium" | undefined> = {
  tags: "col-medium",
  lists: "col-medium",
  country: "col-low",
  created: "col-low",
  updated: "col-low",
};

const FIELD_LABELS: Record<SearchField, string> = {
  auto: "Name, email or phone",
  name: "Name",
  email: "Email",
  phone: "Phone",
};

const CONSENT_STATUS_LABELS = {
  granted: "granted",
  withdrawn: "withdrawn",
  none: "no consent recorded",
} as const;

/** "<channel>:<status>", built from the channel list so a new channel filters too. */
const CONSENT_FILTER = new RegExp(`^(${CHANNELS.join("|")}):(granted|withdrawn|none)$`);

/** The page's own parameters, read leniently: anything malformed is reported, never a 500. */
function readQuery(params: URLSearchParams) {
  const problems: string[] = [];
  const q = (params.get("q") ?? "").slice(0, 200);
  const fieldParam = params.get("field") ?? "auto";
  const field = (SEARCH_FIELDS as readonly string[]).includes(fieldParam)
    ? (fieldParam as SearchField)
    : "auto";
  const filters: ContactFilters = {};
  const idParam = (name: "tag" | "list") => {
    const value = params.get(name) ?? "";
    if (!value) return undefined;
    if (/^[1-9]\d{0,14}$/.test(value)) return Number(value);
    problems.push(`That ${name} filter is not valid. Choose a ${name} from the menu.`);
    return undefined;
  };
  filters.tagId = idParam("tag");
  filters.listId = idParam("list");
  const consent = params.get("consent") ?? "";
  const consentMatch = CONSENT_FILTER.exec(consent);
  if (consentMatch) {
    filters.consent = {
      channel: consentMatch[1] as Channel,
      status: consentMatch[2] as "granted" | "withdrawn" | "none",
    };
  } else if (consent) problems.push("That consent filter is not valid. Choose one from the menu.");
  const country = (params.get("country") ?? "").toUpperCase();
  if (/^[A-Z]{2}$/.test(country)) filters.country = country;
  else if (country) problems.push("That country filter is not valid. Choose one from the menu.");
  for (const key of Object.keys(filters) as (keyof ContactFilters)[]) {
    if (filters[key] === undefined) delete filters[key];
  }
  const chosen = params.getAll("cols");
  const columns = chosen.length ? chosen.filter((c) => c !== "name") : DEFAULT_COLUMNS;
  return {
    q,
    field,
    filters,
    columns,
    after: params.get("after") ?? undefined,
    before: params.get("before") ?? undefined,
    problems,
    /** The parameters to keep in links (everything but the page cursor). */
    keep: [...params.entries()].filter(([k]) => k !== "after" && k !== "before"),
  };
}

/** A table cell: text, or a date shown short with the full date and time on hover. */
type Cell = string | { compact: string; full: string; iso: string };

function dateCell(date: Date, timeZone: string): Cell {
  return {
    compact: formatDateTimeCompact(date, timeZone),
    full: formatDateTime(date, timeZone),
    iso: date.toISOString(),
  };
}

/** Counting stops here on a search: the exact number is counted when an action runs. */
const COUNT_CAP = 100_000;

function matchingSelection(query: ReturnType<typeof readQuery>): BulkSelection {
  return { kind: "matching", q: query.q, field: query.field, filters: query.filters };
}

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, wctx, role } = await requireWorkspace(args, "contacts:read");
  const params = new URL(args.request.url).searchParams;
  const query = readQuery(params);
  const definitions = listAttributeDefinitions(wctx.db);
  const columnChoices = [
    ...FIXED_COLUMNS,
    ...definitions.map((d) => ({ id: `attr.${d.key}`, label: d.label })),
  ];
  const known = new Set(columnChoices.map((c) => c.id));
  const columns = query.columns.filter((c) => known.has(c));
  const tz = workspace.timezone;

  let page: ReturnType<typeof listContacts> | null = null;
  let message = query.problems[0] ?? null;
  if (!message) {
    try {
      page = listContacts(wctx, {
        q: query.q,
        field: query.field,
        filters: query.filters,
        columns,
        after: query.after,
        before: query.before,
        limit: PAGE_SIZE,
      });
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      message = error.message;
    }
  }
  const searching = Boolean(query.q.trim()) || Object.keys(query.filters).length > 0;
  const canWrite = can(role, "contacts:write");
  const canExport = can(role, "contacts:export");
  // How many "Select all matching" covers: counted only when there is more than one page.
  let matching: { n: number; capped: boolean } | null = null;
  if (page && (canWrite || canExport)) {
    if (!page.next && !page.prev && !query.after && !query.before) {
      matching = { n: page.rows.length, capped: false };
    } else if (!searching) {
      matching = { n: countContacts(wctx), capped: false };
    } else {
      const n = countSelection(wctx, matchingSelection(query), COUNT_CAP + 1);
      matching = { n: Math.min(n, COUNT_CAP), capped: n > COUNT_CAP };
    }
  }
  const rows = (page?.rows ?? []).map((r) => ({
    id: r.id,
    name: r.name,
    cells: Object.fromEntries(
      columns.map((c): [string, Cell] => {
        switch (c) {
          case "email":
            return [c, r.email ?? ""];
          case "phone":
            return [c, r.phone ?? ""];
          case "country":
            return [c, r.country ?? ""];
          case "tags":
            return [c, (r.tags ?? []).map((t) => t.name).join(", ")];
          case "lists":
            return [c, (r.lists ?? []).map((l) => l.name).join(", ")];
          case "created":
            return [c, dateCell(r.createdAt, tz)];
          case "updated":
            return [c, dateCell(r.updatedAt, tz)];
          default:
            return [c, formatAttributeValue(r.attributes[c.slice("attr.".length)])];
        }
      }),
    ),
  }));
  return data(
    {
      workspace: { name: workspace.name, slug: workspace.slug },
      canWrite,
      canExport,
      matching,
      maxTicked: MAX_TICKED,
      query: {
        q: query.q,
        field: query.field,
        tag: params.get("tag") ?? "",
        list: params.get("list") ?? "",
        consent: params.get("consent") ?? "",
        country: (params.get("country") ?? "").toUpperCase(),
      },
      keep: query.keep,
      columns: columns.map((id) => ({
        id,
        label: columnChoices.find((c) => c.id === id)!.label,
      })),
      columnChoices,
      tags: listGroups(wctx, "tag", { counts: false }).map((t) => ({
        value: String(t.id),
        label: t.name,
      })),
      lists: listGroups(wctx, "list", { counts: false }).map((l) => ({
        value: String(l.id),
        label: l.name,
      })),
      countries: COUNTRY_CODES.map((code) => ({
        value: code,
        label: `${countryName(code)} (${code})`,
      })).sort((a, b) => a.label.localeCompare(b.label, "en")),
      // Counting a million rows costs a few tens of ms: only on the plain list.
      total: searching ? null : countContacts(wctx),
      searching,
      mode: page?.mode ?? "all",
      rows,
      next: page?.next ?? null,
      prev: page?.prev ?? null,
      paged: Boolean(query.after || query.before),
      message,
    },
    { status: message ? 400 : 200 },
  );
}

/** What each bulk action needs: exporting is its own permission, the rest edit contacts. */
const NEEDS = {
  tag: "contacts:write",
  untag: "contacts:write",
  "list-add": "contacts:write",
  "list-remove": "contacts:write",
  export: "contacts:export",
  delete: "contacts:write",
} as const satisfies Record<string, Permission>;

/** A deletion waiting for its confirmation: the count it asks about and what to post again. */
interface DeleteConfirmation {
  count: number;
  erase: boolean;
  changed: boolean;
  scope: BulkSelection["kind"];
  ids: number[];
  query: string;
}

const plural = (n: number) => `${n.toLocaleString("en-US")} ${n === 1 ? "contact" : "contacts"}`;

/**
 * Bulk actions on the ticked rows (ids) or on every contact matching the page's search
 * ("matching", evaluated now from the search in `query`). Deleting asks first: the answer is
 * a confirmation showing how many will go; only a second post with confirm=yes deletes.
 */
export async function action(args: ActionFunctionArgs) {
  const form = await args.request.formData();
  const { workspace, wctx, intent } = await requireWorkspaceIntent(args, form, NEEDS);
  const queryText = String(form.get("query") ?? "").slice(0, 2000);
  const query = readQuery(new URLSearchParams(queryText));
  const base = `/w/${workspace.slug}/contacts`;
  const back = href(base, query.keep);
  // What was typed comes back with the message, so nothing is lost.
  const fields = { intent, tagName: String(form.get("tagName") ?? "") };
  const fail = (message: string) => formFailure(message, { status: 400, fields });
  if (query.problems.length) return fail(query.problems[0]!);

  let selection: BulkSelection;
  if (form.get("scope") === "matching") {
    selection = matchingSelection(query);
  } else {
    const raw = form.getAll("ids").map(String);
    if (raw.some((v) => !/^[1-9]\d{0,14}$/.test(v))) {
      return fail("Some ticked contacts were not recognised. Reload the page and try again.");
    }
    selection = { kind: "ids", ids: raw.map(Number) };
  }
  try {
    switch (intent) {
      case "tag":
      case "untag": {
        const name = String(form.get("tagName") ?? "");
        const result =
          intent === "tag"
            ? await bulkChangeMembership(wctx, "tag", selection, "add", { name: name })
            : await bulkChangeMembership(wctx, "tag", selection, "remove", { name: name });
        return redirectWithFlash(
          back,
          intent === "tag"
            ? `Tagged ${plural(result.changed)} “${result.name}”.`
            : `Took the tag “${result.name}” off ${plural(result.changed)}.`,
          result.changed ? "success" : "info",
        );
      }
      case "list-add":
      case "list-remove": {
        const listText = String(form.get("listId") ?? "");
        const listId = /^[1-9]\d{0,14}$/.test(listText) ? Number(listText) : NaN;
        const result =
          intent === "list-add"
            ? await bulkChangeMembership(wctx, "list", selection, "add", { id: listId })
            : await bulkChangeMembership(wctx, "list", selection, "remove", { id: listId });
        return redirectWithFlash(
          back,
          intent === "list-add"
            ? `Added ${plural(result.changed)} to the list “${result.name}”.`
            : `Removed ${plural(result.changed)} from the list “${result.name}”.`,
          result.changed ? "success" : "info",
        );
      }
      case "export": {
        bulkExport(wctx, selection);
        return redirectWithFlash(
          `${base}/export`,
          "Export started. It appears below with a download link when the file is ready.",
        );
      }
      default: {
        const count = countSelection(wctx, selection);
        if (count === 0) return fail("None of the chosen contacts exist any more.");
        const erase = form.get("erase") === "on";
        const expected = Number(form.get("expected") ?? "");
        // The count shown when asking is an upper bound: more contacts than were confirmed
        // (an import added some since) means asking again.
        if (form.get("confirm") !== "yes" || !(count <= expected)) {
          const confirm: DeleteConfirmation = {
            count,
            erase,
            changed: form.get("confirm") === "yes",
            scope: selection.kind,
            ids: selection.kind === "ids" ? selection.ids : [],
            query: queryText,
          };
          return data({ confirm });
        }
        const result = await bulkDelete(wctx, selection, { erase });
        return redirectWithFlash(
          back,
          erase
            ? `Erased ${plural(result.changed)}. Their email addresses and phone numbers stay on the suppression list as unreadable hashes, so they cannot be re-added.`
            : `Deleted ${plural(result.changed)}.`,
        );
      }
    }
  } catch (error) {
    return formFailure(error, { fields });
  }
}

function href(base: string, keep: [string, string][], extra: Record<string, string> = {}) {
  const params = new URLSearchParams(keep);
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  const text = params.toString();
  return text ? `${base}?${text}` : base;
}

const BULK_INTENTS = [
  { value: "tag", label: "Add a tag", needs: "write" },
  { value: "untag", label: "Remove a tag", needs: "write" },
  { value: "list-add", label: "Add to a list", needs: "write" },
  { value: "list-remove", label: "Remove from a list", needs: "write" },
  { value: "export", label: "Export as CSV", needs: "export" },
  { value: "delete", label: "Delete…", needs: "write" },
] as const;

export default function ContactsPage() {
  const d = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>() as
    FormResult | { confirm: DeleteConfirmation } | undefined;
  const confirm = actionData && "confirm" in actionData ? actionData.confirm : null;
  const result = actionData && !("confirm" in actionData) ? actionData : undefined;
  const busy = useNavigation().state === "submitting";
  const [hydrated, setHydrated] = useState(false);
  const [picked, setPicked] = useState<ReadonlySet<number>>(new Set());
  const [allMatching, setAllMatching] = useState(false);
  const [intent, setIntent] = useState("tag");
  useEffect(() => setHydrated(true), []);
  const confirmHeading = useRef<HTMLHeadingElement>(null);
  // A fresh page (another page, or after an action) starts with nothing ticked; a deletion
  // waiting for its confirmation keeps what was ticked.
  useEffect(() => {
    if (confirm) return;
    setPicked(new Set());
    setAllMatching(false);
  }, [d, confirm]);
  // The confirmation is where the keyboard and the eye go next.
  useEffect(() => {
    if (confirm) confirmHeading.current?.focus();
  }, [confirm]);
  const base = `/w/${d.workspace.slug}/contacts`;
  const selected = new Set(d.columns.map((c) => c.id));
  const consentOptions = [
    { value: "", label: "Any consent" },
    ...CHANNELS.flatMap((ch) =>
      (["granted", "withdrawn", "none"] as const).map((status) => ({
        value: `${ch}:${status}`,
        label: `${CHANNEL_LABELS[ch]}: ${CONSENT_STATUS_LABELS[status]}`,
      })),
    ),
  ];
  const withoutCursor = href(base, d.keep);
  const queryText = new URLSearchParams(d.keep).toString();
  const bulk = d.canWrite || d.canExport;
  const intents = BULK_INTENTS.filter((i) =>
    i.needs === "write" ? d.canWrite : d.canExport,
  ).filter((i) => d.lists.length || !i.value.startsWith("list-"));
  const pageIds = d.rows.map((r) => r.id);
  const wholePage = pageIds.length > 0 && pageIds.every((id) => picked.has(id));
  const offerMatching =
    d.matching !== null && d.matching.n > d.rows.length && (!hydrated || wholePage || allMatching);
  const matchingText = d.matching
    ? `${d.matching.n.toLocaleString("en-US")}${d.matching.capped ? "+" : ""}`
    : "";
  const chosenText = !hydrated
    ? "Tick contacts, then choose what to do with them."
    : allMatching
      ? `All ${matchingText} matching contacts chosen.`
      : picked.size
        ? `${picked.size} ${picked.size === 1 ? "contact" : "contacts"} chosen.`
        : "Tick contacts to act on them.";
  const showTag = !hydrated || intent === "tag" || intent === "untag";
  const showList = d.lists.length > 0 && (!hydrated || intent.startsWith("list-"));
  const toggle = (id: number, on: boolean) => {
    const next = new Set(allMatching ? pageIds : picked);
    if (on) next.add(id);
    else next.delete(id);
    setAllMatching(false);
    setPicked(next);
  };
  return (
    <>
      <PageHeader
        title="Contacts"
        description={
          d.total === null
            ? `The people ${d.workspace.name} messages.`
            : `${d.total.toLocaleString("en-US")} ${d.total === 1 ? "contact" : "contacts"} in ${d.workspace.name}.`
        }
        actions={
          d.canWrite || d.canExport ? (
            <>
              {d.canWrite ? (
                <>
                  <ButtonLink to={`${base}/new`} variant="primary">
                    New contact
                  </ButtonLink>
                  <ButtonLink to={`${base}/import`}>Import CSV</ButtonLink>
                </>
              ) : null}
              {d.canExport ? <ButtonLink to={`${base}/export`}>Export</ButtonLink> : null}
            </>
          ) : null
        }
      />

      <Form method="get" action={base} className="filters" aria-label="Search and filter contacts">
        <Field
          label="Search"
          name="q"
          type="search"
          defaultValue={d.query.q}
          maxLength={200}
          hint="Start of a name, email address or phone number"
        />
        <Select
          name="field"
          label="Search in"
          options={(Object.keys(FIELD_LABELS) as SearchField[]).map((f) => ({
            value: f,
            label: FIELD_LABELS[f],
          }))}
          defaultValue={d.query.field}
        />
        {d.tags.length ? (
          <Select
            name="tag"
            label="Tag"
            options={[{ value: "", label: "Any tag" }, ...d.tags]}
            defaultValue={d.query.tag}
          />
        ) : null}
        {d.lists.length ? (
          <Select
            name="list"
            label="List"
            options={[{ value: "", label: "Any list" }, ...d.lists]}
            defaultValue={d.query.list}
          />
        ) : null}
        <Select
          name="consent"
          label="Consent"
          options={consentOptions}
          defaultValue={d.query.consent}
        />
        <Select
          name="country"
          label="Phone country"
          options={[{ value: "", label: "Any country" }, ...d.countries]}
          defaultValue={d.query.country}
        />
        <details>
          <summary>Columns</summary>
          <fieldset>
            <legend className="visually-hidden">Columns to show</legend>
            <input type="hidden" name="cols" value="name" />
            {d.columnChoices.map((c) => (
              <div className="field field-checkbox" key={c.id}>
                <input
                  id={`col-${c.id}`}
                  type="checkbox"
                  name="cols"
                  value={c.id}
                  defaultChecked={selected.has(c.id)}
                />
                <label htmlFor={`col-${c.id}`}>{c.label}</label>
              </div>
            ))}
          </fieldset>
        </details>
        <div className="filters-actions">
          <Button type="submit" variant="secondary">
            Search
          </Button>
          {d.searching ? <ButtonLink to={base}>Clear</ButtonLink> : null}
        </div>
      </Form>

      <FormErrors errors={d.message ? [d.message] : undefined} />
      <FormErrors errors={resultMessages(result)} />

      {confirm ? (
        <section className="card danger-zone" aria-labelledby="bulk-delete-heading">
          <h2 id="bulk-delete-heading" className="card-title" tabIndex={-1} ref={confirmHeading}>
            Delete {plural(confirm.count)}?
          </h2>
          {confirm.changed ? (
            <p>
              <strong>The number of matching contacts has changed since you asked.</strong> Check it
              and confirm again.
            </p>
          ) : null}
          <p>
            Their consent records, tags, list memberships and timelines are deleted for good. This
            can&apos;t be undone.
          </p>
          <Form method="post">
            <input type="hidden" name="intent" value="delete" />
            <input type="hidden" name="confirm" value="yes" />
            <input type="hidden" name="expected" value={confirm.count} />
            <input type="hidden" name="query" value={confirm.query} />
            {confirm.scope === "matching" ? (
              <input type="hidden" name="scope" value="matching" />
            ) : (
              confirm.ids.map((id: number) => (
                <input key={id} type="hidden" name="ids" value={id} />
              ))
            )}
            <Checkbox
              name="erase"
              defaultChecked={confirm.erase}
              label="These are erasure requests: keep their email addresses and phone numbers on the suppression list (as unreadable hashes) so they are never imported or messaged again"
            />
            <div className="filters-actions">
              <Button variant="danger" type="submit" disabled={busy}>
                Delete {plural(confirm.count)}
              </Button>
              <ButtonLink to={withoutCursor}>Cancel</ButtonLink>
            </div>
          </Form>
        </section>
      ) : null}

      {d.message ? null : d.rows.length === 0 ? (
        d.searching || d.paged ? (
          <EmptyState title="No contacts match">
            Searches match the start of a name, email address or phone number. Try fewer letters or
            other filters.
          </EmptyState>
        ) : (
          <EmptyState
            title="No contacts yet"
            action={
              d.canWrite ? (
                <p>
                  <ButtonLink to={`${base}/import`} variant="primary">
                    Import a CSV file
                  </ButtonLink>{" "}
                  <ButtonLink to={`${base}/new`}>Add one by hand</ButtonLink>
                </p>
              ) : null
            }
          >
            Contacts are the people you message. Import them from a spreadsheet or add them one by
            one.
          </EmptyState>
        )
      ) : (
        <Form
          method="post"
          aria-label="Act on chosen contacts"
          onChange={(event) => {
            const target = event.target as HTMLInputElement | HTMLSelectElement;
            if (target.name === "intent") setIntent(target.value);
          }}
        >
          <input type="hidden" name="query" value={queryText} />
          {bulk ? (
            <div className="bulk-bar">
              <p className="bulk-status" aria-live="polite">
                {chosenText}
              </p>
              {offerMatching ? (
                <div className="field field-checkbox">
                  <input
                    id="bulk-all-matching"
                    type="checkbox"
                    name="scope"
                    value="matching"
                    checked={allMatching}
                    onChange={(e) => setAllMatching(e.target.checked)}
                  />
                  <label htmlFor="bulk-all-matching">
                    Select all {matchingText} matching contacts
                  </label>
                </div>
              ) : null}
              <div className="bulk-controls">
                <Select
                  name="intent"
                  label="Action"
                  options={intents.map((i) => ({ value: i.value, label: i.label }))}
                  defaultValue="tag"
                />
                {showTag ? (
                  <Field
                    label="Tag name"
                    name="tagName"
                    defaultValue={String(submittedOf(result).tagName ?? "")}
                    maxLength={60}
                    list="bulk-tag-names"
                    autoComplete="off"
                  />
                ) : null}
                {showList ? <Select name="listId" label="Which list" options={d.lists} /> : null}
                <Button type="submit" variant="secondary" disabled={busy}>
                  Apply
                </Button>
              </div>
              <datalist id="bulk-tag-names">
                {d.tags.map((t) => (
                  <option key={t.value} value={t.label} />
                ))}
              </datalist>
            </div>
          ) : null}
          <div className="table-scroll">
            <table className="table">
              <caption className="visually-hidden">
                Contacts
                {d.mode === "all" ? ", newest first" : `, by ${d.mode}`}
              </caption>
              <thead>
                <tr>
                  {bulk ? (
                    <th scope="col" className="col-check">
                      {hydrated ? (
                        <input
                          type="checkbox"
                          aria-label="Select all contacts on this page"
                          checked={wholePage || allMatching}
                          onChange={(e) => {
                            setAllMatching(false);
                            setPicked(new Set(e.target.checked ? pageIds : []));
                          }}
                        />
                      ) : (
                        <span className="visually-hidden">Choose</span>
                      )}
                    </th>
                  ) : null}
                  <th scope="col">Name</th>
                  {d.columns.map((c) => (
                    <th scope="col" key={c.id} className={COLUMN_PRIORITY[c.id]}>
                      {c.label}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {d.rows.map((r) => (
                  <tr key={r.id}>
                    {bulk ? (
                      <td className="col-check">
                        <input
                          type="checkbox"
                          name="ids"
                          value={r.id}
                          aria-label={`Select ${r.name || `contact #${r.id}`}`}
                          checked={allMatching || picked.has(r.id)}
                          onChange={(e) => toggle(r.id, e.target.checked)}
                        />
                      </td>
                    ) : null}
                    <th scope="row">
                      <Link to={`${base}/${r.id}`}>
                        {r.name || <span className="muted">(no name) #{r.id}</span>}
                      </Link>
                    </th>
                    {d.columns.map((c) => {
                      const cell = r.cells[c.id];
                      return (
                        <td key={c.id} className={COLUMN_PRIORITY[c.id]}>
                          {typeof cell === "object" && cell ? (
                            <time dateTime={cell.iso} title={cell.full}>
                              {cell.compact}
                            </time>
                          ) : (
                            cell
                          )}
                        </td>
                      );
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </Form>
      )}

      {!d.message && (d.prev || d.next || d.paged) ? (
        <nav className="pager" aria-label="Contact pages">
          <span>
            {d.paged ? <Link to={withoutCursor}>First page</Link> : null}{" "}
            {d.prev ? (
              <Link to={href(base, d.keep, { before: d.prev })} rel="prev">
                Previous
              </Link>
            ) : null}
          </span>
          {d.next ? (
            <Link to={href(base, d.keep, { after: d.next })} rel="next">
              Next
            </Link>
          ) : null}
        </nav>
      ) : null}
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
