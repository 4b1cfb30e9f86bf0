import { Form } from "@remix-run/react";
import { Select } from "./form";
import { Button } from "./ui/button";

type QueueFilter = "open" | "all";

/** The "Show: open / all requests" filter above a privacy-request queue (admin or workspace). */
export function PrivacyQueueFilter({
  filter,
  label,
  action,
}: {
  filter: QueueFilter;
  /** The form's accessible name, saying which queue it filters. */
  label: string;
  action?: string;
}) {
  return (
    <Form method="get" action={action} className="filters" aria-label={label}>
      <Select
        name="show"
        label="Show"
        defaultValue={filter}
        options={[
          { value: "open", label: "Open requests" },
          { value: "all", label: "All requests" },
        ]}
      />
      <div className="filters-actions">
        <Button type="submit" variant="secondary">
          Apply
        </Button>
      </div>
    </Form>
  );
}

/** Page `page` of a privacy-request queue at `base`, keeping its filter. */
export function privacyQueueUrl(base: string, filter: QueueFilter, page: number): string {
  const params = new URLSearchParams();
  if (filter === "all") params.set("show", "all");
  if (page > 1) params.set("page", String(page));
  const query = params.toString();
  return query ? `${base}?${query}` : base;
}
