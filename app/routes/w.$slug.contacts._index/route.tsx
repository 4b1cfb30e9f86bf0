import { data, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { useEffect, useRef, useState } from "react";
import { can } from "~/auth/permissions";
import { requireWorkspace } from "~/auth/workspace.server";
import { FormErrors, Select } from "~/components/form";
import { Button, ButtonLink } from "~/components/ui/button";
import { Field } from "~/components/ui/field";
import { PageHeader } from "~/components/ui/layout";
import {
  formatAttributeValue,
  listAttributeDefinitions,
} from "~/domain/contacts/attributes.server";
import { countSelection, MAX_TICKED } from "~/domain/contacts/bulk.server";
import { countContacts, listContacts, type SearchField } from "~/domain/contacts/search.server";
import { listGroups } from "~/domain/contacts/groups.server";
import { COUNTRY_CODES, countryName } from "~/domain/workspaces/options";
import { CHANNEL_LABELS, CHANNELS } from "~/lib/channels";
import { ValidationError } from "~/lib/errors";
import { resultMessages, submittedOf, type FormResult } from "~/lib/form-result";
import { formatDateTime, formatDateTimeCompact } from "~/lib/format";
import { bulkAction, type DeleteConfirmation } from "./bulk.server";
import { DeleteConfirmationCard } from "./delete-confirmation";
import { NoContacts } from "./no-contacts";
import { href } from "./links";
import {
  BULK_INTENTS,
  COLUMN_PRIORITY,
  CONSENT_STATUS_LABELS,
  FIELD_LABELS,
  FIXED_COLUMNS,
} from "./options";
import { matchingSelection, readQuery } from "./query.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `Contacts — ${data?.workspace.name ?? "Workspace"} — Pleisys Engage` },
];

export const headers = () => ({ "Cache-Control": "no-store" });

const PAGE_SIZE = 50;

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

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, wctx, role } = await requireWorkspace(args, "contacts:read");
  const params = new URL(args.request.url).searchParams;
  const query = readQuery(params);
  const definitions = listAttributeDefinitions(wctx);
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

export const action = bulkAction;

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
        <DeleteConfirmationCard
          confirm={confirm}
          headingRef={confirmHeading}
          busy={busy}
          cancel={withoutCursor}
        />
      ) : null}

      {d.message ? null : d.rows.length === 0 ? (
        <NoContacts searching={d.searching || d.paged} canWrite={d.canWrite} base={base} />
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
