/** What each account status reads as in the admin tables (users and workspaces alike). */
const ACCOUNT_STATUS: Record<string, { label: string; tone?: string }> = {
  active: { label: "Active", tone: "badge-success" },
  suspended: { label: "Suspended", tone: "badge-warning" },
  closed: { label: "Closed" },
  deleted: { label: "Deleted" },
};

/** The status badge of a user or workspace row in the platform admin. */
export function AccountStatusBadge({ status }: { status: string }) {
  const { label, tone } = ACCOUNT_STATUS[status] ?? { label: status };
  return <span className={tone ? `badge ${tone}` : "badge"}>{label}</span>;
}
