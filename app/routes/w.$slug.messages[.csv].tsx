import { data, type LoaderFunctionArgs } from "@remix-run/node";
import { can } from "~/auth/permissions";
import { requireWorkspace } from "~/auth/workspace.server";
import { exportMessageLogCsv, readMessageLogFilters } from "~/domain/delivery/message-log.server";
import { csvDownload } from "~/lib/csv-download.server";
import { ForbiddenError } from "~/lib/errors";

/**
 * GET /w/<slug>/messages.csv — the message log with the page's filters (channel, status,
 * campaign, sandbox), newest first, streamed a page at a time. One row per message with its
 * recipient: a bulk file of addresses, so it needs contacts:export as well. Audited.
 */
export async function loader(args: LoaderFunctionArgs) {
  const { workspace, wctx, role } = await requireWorkspace(args, "campaigns:read");
  if (!can(role, "contacts:export")) throw new ForbiddenError();
  const { filters, problem } = readMessageLogFilters(new URL(args.request.url).searchParams);
  if (problem) throw data({ message: problem }, { status: 400 });
  const chunks = exportMessageLogCsv(wctx, filters);
  return csvDownload(chunks, `messages-${workspace.slug}.csv`);
}
