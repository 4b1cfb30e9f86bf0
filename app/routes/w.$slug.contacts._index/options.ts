import type { SearchField } from "~/domain/contacts/search.server";

/** The page's fixed choices: columns, search fields, consent filters and bulk actions. */

export const FIXED_COLUMNS = [
  { id: "email", label: "Email" },
  { id: "phone", label: "Phone" },
  { id: "country", label: "Country" },
  { id: "tags", label: "Tags" },
  { id: "lists", label: "Lists" },
  { id: "created", label: "Created" },
  { id: "updated", label: "Last changed" },
] as const;
/** Columns that give way first on narrower screens (name and email always stay). */
export const COLUMN_PRIORITY: Record<string, "col-low" | "col-medium" | undefined> = {
  tags: "col-medium",
  lists: "col-medium",
  country: "col-low",
  created: "col-low",
  updated: "col-low",
};

export const FIELD_LABELS: Record<SearchField, string> = {
  auto: "Name, email or phone",
  name: "Name",
  email: "Email",
  phone: "Phone",
};

export const CONSENT_STATUS_LABELS = {
  granted: "granted",
  withdrawn: "withdrawn",
  none: "no consent recorded",
} as const;

export const BULK_INTENTS = [
  { value: "tag", label: "Add a tag", needs: "write" },
  { value: "untag", label: "Remove a tag", needs: "write" },
  { value: "list-add", label: "Add to a list", needs: "write" },
  { value: "list-remove", label: "Remove from a list", needs: "write" },
  { value: "export", label: "Export as CSV", needs: "export" },
  { value: "delete", label: "Delete…", needs: "write" },
] as const;
