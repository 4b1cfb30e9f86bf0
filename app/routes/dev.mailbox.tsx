import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData, useOutlet } from "@remix-run/react";
import { EmptyState, PageHeader } from "~/components/ui/layout";
import {
  listDevMailbox,
  mailboxRequestFrom,
  requireDevMailbox,
} from "~/domain/mail/mailbox.server";

export const meta: MetaFunction = () => [
  { title: "Dev mailbox — Pleisys Engage" },
  { name: "robots", content: "noindex" },
];

// Messages hold live sign-in links: never cache them.
export const headers = () => ({ "Cache-Control": "no-store" });

/**
 * Lists the mail written to DATA_DIR/mail when SES is not configured. Only for requests from
 * this machine; everyone else (and every request once SES is configured) gets a 404.
 * Also the parent of /dev/mailbox/:id, where it only guards.
 */
export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const guard = mailboxRequestFrom(request.headers, context.clientIp);
  if (params.id !== undefined) {
    requireDevMailbox(guard);
    return { list: null };
  }
  const page = new URL(request.url).searchParams.get("page");
  return { list: await listDevMailbox(guard, page) };
}

/** "2026-06-10T14:05:02.123Z" -> "2026-06-10 14:05:02 UTC": the same on server and client. */
function formatTime(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

export default function DevMailbox() {
  const { list } = useLoaderData<typeof loader>();
  const outlet = useOutlet();
  if (outlet || !list) return outlet;

  const { items, total, page, pageCount } = list;
  return (
    <>
      <PageHeader
        title="Dev mailbox"
        description="No SES credentials are configured, so transactional mail is written to DATA_DIR/mail instead of being sent. Only this machine can see this page."
      />
      {total === 0 ? (
        <EmptyState title="No mail yet">
          Mail the app sends (address verification, password resets, invitations, security notices)
          appears here.
        </EmptyState>
      ) : items.length === 0 ? (
        <EmptyState title="No messages on this page" action={<Link to="?page=1">Newest mail</Link>}>
          There are {total} messages, on {pageCount} {pageCount === 1 ? "page" : "pages"}.
        </EmptyState>
      ) : (
        <>
          <table className="table">
            <thead>
              <tr>
                <th scope="col">To</th>
                <th scope="col">Subject</th>
                <th scope="col">Time</th>
              </tr>
            </thead>
            <tbody>
              {items.map((m) => (
                <tr key={m.id}>
                  <td>{m.to}</td>
                  <td>
                    <Link to={`/dev/mailbox/${m.id}`}>{m.subject || "(no subject)"}</Link>
                  </td>
                  <td>
                    <time dateTime={m.date}>{formatTime(m.date)}</time>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <nav aria-label="Pages" className="page-actions" style={{ marginTop: "1rem" }}>
            {page > 1 ? (
              <Link to={`?page=${page - 1}`} rel="prev">
                ← Newer
              </Link>
            ) : null}
            <span>{`Page ${page} of ${pageCount} · ${total} ${total === 1 ? "message" : "messages"}`}</span>
            {page < pageCount ? (
              <Link to={`?page=${page + 1}`} rel="next">
                Older →
              </Link>
            ) : null}
          </nav>
        </>
      )}
    </>
  );
}
