import { data, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData } from "@remix-run/react";
import { can } from "~/auth/permissions";
import { requireWorkspace } from "~/auth/workspace.server";
import { FormErrors, Select } from "~/components/form";
import { Button, ButtonLink } from "~/components/ui/button";
import { Field } from "~/components/ui/field";
import { EmptyState, PageHeader } from "~/components/ui/layout";
import {
  formatAttributeValue,
  listAttributeDefinitions,
} from "~/domain/contacts/attributes.server";
import {
  countContacts,
  listContacts,
  listLists,
  listTags,
  SEARCH_FIELDS,
  type ContactFilters,
  type SearchField,
} from "~/domain/contacts/contacts.server";
import { COUNTRY_CODES, countryName } from "~/domain/workspaces/options";
import { CHANNEL_LABELS, CHANNELS, type Channel } from "~/lib/channels";
import { ValidationError } from "~/lib/errors";
import { formatDateTime } from "~/lib/format";

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
  const consentMatch = /^(email|whatsapp|sms|telegram):(granted|withdrawn|none)$/.exec(consent);
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
        defaultCountry: workspace.country,
      });
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      message = error.message;
    }
  }
  const searching = Boolean(query.q.trim()) || Object.keys(query.filters).length > 0;
  const rows = (page?.rows ?? []).map((r) => ({
    id: r.id,
    name: r.name,
    cells: Object.fromEntries(
      columns.map((c): [string, string] => {
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
            return [c, formatDateTime(r.createdAt, tz)];
          case "updated":
            return [c, formatDateTime(r.updatedAt, tz)];
          default:
            return [c, formatAttributeValue(r.attributes[c.slice("attr.".length)])];
        }
      }),
    ),
  }));
  return data(
    {
      workspace: { name: workspace.name, slug: workspace.slug },
      canWrite: can(role, "contacts:write"),
      canExport: can(role, "contacts:export"),
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
      tags: listTags(wctx, { counts: false }).map((t) => ({ value: String(t.id), label: t.name })),
      lists: listLists(wctx, { counts: false }).map((l) => ({
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

function href(base: string, keep: [string, string][], extra: Record<string, string> = {}) {
  const params = new URLSearchParams(keep);
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  const text = params.toString();
  return text ? `${base}?${text}` : base;
}

export default function ContactsPage() {
  const d = useLoaderData<typeof loader>();
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
          <>
            {d.canWrite ? (
              <>
                <ButtonLink to={`${base}/new`} variant="primary">
                  New contact
                </ButtonLink>{" "}
                <ButtonLink to={`${base}/import`}>Import CSV</ButtonLink>{" "}
              </>
            ) : null}
            {d.canExport ? (
              <>
                <ButtonLink to={`${base}/export`}>Export</ButtonLink>{" "}
              </>
            ) : null}
            <ButtonLink to={`/w/${d.workspace.slug}/segments`}>Segments</ButtonLink>
          </>
        }
      />
      <nav aria-label="Contact settings">
        <p>
          <Link to={`${base}/lists`}>Tags and lists</Link> ·{" "}
          <Link to={`${base}/attributes`}>Attributes</Link> ·{" "}
          <Link to={`${base}/suppressions`}>Suppression list</Link>
        </p>
      </nav>

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
        <div className="table-scroll">
          <table className="table">
            <caption className="visually-hidden">
              Contacts
              {d.mode === "all" ? ", newest first" : `, by ${d.mode}`}
            </caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                {d.columns.map((c) => (
                  <th scope="col" key={c.id}>
                    {c.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {d.rows.map((r) => (
                <tr key={r.id}>
                  <th scope="row">
                    <Link to={`${base}/${r.id}`}>
                      {r.name || <span className="muted">(no name) #{r.id}</span>}
                    </Link>
                  </th>
                  {d.columns.map((c) => (
                    <td key={c.id}>{r.cells[c.id]}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
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
