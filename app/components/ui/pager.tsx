import { Link } from "@remix-run/react";

/**
 * Previous / "Page n of m" / Next for lists paged by number. Renders nothing for a list of one
 * page seen on page 1; past the last page it still offers the way back.
 * `href(n)` builds page n's address (keeping the list's filters).
 */
export function Pager({
  label,
  page,
  pages,
  href,
  previous = "← Previous",
  next = "Next →",
}: {
  label: string;
  page: number;
  pages: number;
  href: (page: number) => string;
  previous?: string;
  next?: string;
}) {
  if (pages <= 1 && page <= 1) return null;
  return (
    <nav className="pager" aria-label={label}>
      {page > 1 ? (
        <Link to={href(Math.min(page - 1, pages))} rel="prev">
          {previous}
        </Link>
      ) : (
        <span />
      )}
      <span className="muted">
        Page {page} of {pages}
      </span>
      {page < pages ? (
        <Link to={href(page + 1)} rel="next">
          {next}
        </Link>
      ) : (
        <span />
      )}
    </nav>
  );
}
