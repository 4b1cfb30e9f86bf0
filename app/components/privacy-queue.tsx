import { Form, Link } from "@remix-run/react";
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

/** A privacy-request row as the queue pages show it (plain strings and ISO dates). */
export interface PrivacyQueueRow {
  id: string | number;
  typeLabel: string;
  statusLabel: string;
  received: string;
  receivedIso: string;
  due: string;
  dueIso: string;
  countdown: string | null;
  overdue: boolean;
}

/** The table of a privacy-request queue, soonest due first; overdue rows stand out. */
export function PrivacyQueueTable({
  rows,
  caption,
  href,
  className = "table",
  showEscalated = false,
}: {
  rows: PrivacyQueueRow[];
  caption: string;
  href: (row: PrivacyQueueRow) => string;
  className?: string;
  /** The operator's queue marks overdue requests as escalated to them. */
  showEscalated?: boolean;
}) {
  return (
    <div className="table-scroll">
      <table className={className}>
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Request</th>
            <th scope="col">Received</th>
            <th scope="col">Due</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.id} className={row.overdue ? "row-attention" : undefined}>
              <th scope="row">
                <Link to={href(row)}>{row.typeLabel}</Link>
              </th>
              <td>
                <time dateTime={row.receivedIso}>{row.received}</time>
              </td>
              <td>
                <time dateTime={row.dueIso}>{row.due}</time>
                {row.countdown ? (
                  <span className={`badge ${row.overdue ? "badge-danger" : "badge-warning"}`}>
                    {row.countdown}
                  </span>
                ) : null}
                {showEscalated && row.overdue ? (
                  <span className="badge badge-danger">Escalated</span>
                ) : null}
              </td>
              <td>{row.statusLabel}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
