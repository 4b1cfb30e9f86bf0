import { type BulkSelection } from "~/domain/contacts/bulk.server";
import {
  SEARCH_FIELDS,
  type ContactFilters,
  type SearchField,
} from "~/domain/contacts/search.server";
import { CHANNELS, type Channel } from "~/lib/channels";

/** Columns shown until the person picks their own. */
export const DEFAULT_COLUMNS = ["email", "phone", "tags", "created"];

/** "<channel>:<status>", built from the channel list so a new channel filters too. */
const CONSENT_FILTER = new RegExp(`^(${CHANNELS.join("|")}):(granted|withdrawn|none)$`);

/** The page's own parameters, read leniently: anything malformed is reported, never a 500. */
export function readQuery(params: URLSearchParams) {
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

export type ContactsQuery = ReturnType<typeof readQuery>;

/** Every contact matching the page's search, evaluated when an action runs. */
export function matchingSelection(query: ContactsQuery): BulkSelection {
  return { kind: "matching", q: query.q, field: query.field, filters: query.filters };
}
