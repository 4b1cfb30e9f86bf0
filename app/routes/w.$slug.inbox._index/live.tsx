import { Link } from "@remix-run/react";
import { DesktopNotifyToggle, useDesktopNotifications } from "~/components/inbox/desktop-notify";
import { useInboxEvents } from "~/components/inbox/use-inbox-events";

/**
 * The inbox list's live part: new messages and changes re-read the list, desktop notifications
 * (opt-in) while the tab is hidden, and the link to the reports for those who may read them.
 * Without JavaScript the list is simply reloaded.
 */
export function InboxListActions({
  slug,
  viewerId,
  canReadReports,
}: {
  slug: string;
  viewerId: string;
  canReadReports: boolean;
}) {
  const onEvent = useDesktopNotifications(slug, viewerId);
  useInboxEvents({ slug, viewerId, onEvent });
  return (
    <div className="page-actions">
      <DesktopNotifyToggle />
      {canReadReports ? (
        <Link className="btn btn-secondary" to={`/w/${slug}/inbox/reports`}>
          Reports
        </Link>
      ) : null}
    </div>
  );
}
