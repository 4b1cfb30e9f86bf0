import { data, type ActionFunctionArgs } from "@remix-run/node";
import type { Permission } from "~/auth/permissions";
import { requireWorkspaceIntent } from "~/auth/workspace.server";
import {
  bulkChangeMembership,
  bulkDelete,
  bulkExport,
  countSelection,
  type BulkSelection,
} from "~/domain/contacts/bulk.server";
import { redirectWithFlash } from "~/lib/flash.server";
import { formFailure } from "~/lib/form.server";
import { href, plural } from "./links";
import { matchingSelection, readQuery } from "./query.server";

/** What each bulk action needs: exporting is its own permission, the rest edit contacts. */
const NEEDS = {
  tag: "contacts:write",
  untag: "contacts:write",
  "list-add": "contacts:write",
  "list-remove": "contacts:write",
  export: "contacts:export",
  delete: "contacts:write",
} as const satisfies Record<string, Permission>;

/** A deletion waiting for its confirmation: the count it asks about and what to post again. */
export interface DeleteConfirmation {
  count: number;
  erase: boolean;
  changed: boolean;
  scope: BulkSelection["kind"];
  ids: number[];
  query: string;
}

/**
 * Bulk actions on the ticked rows (ids) or on every contact matching the page's search
 * ("matching", evaluated now from the search in `query`). Deleting asks first: the answer is
 * a confirmation showing how many will go; only a second post with confirm=yes deletes.
 */
export async function bulkAction(args: ActionFunctionArgs) {
  const form = await args.request.formData();
  const { workspace, wctx, intent } = await requireWorkspaceIntent(args, form, NEEDS);
  const queryText = String(form.get("query") ?? "").slice(0, 2000);
  const query = readQuery(new URLSearchParams(queryText));
  const base = `/w/${workspace.slug}/contacts`;
  const back = href(base, query.keep);
  // What was typed comes back with the message, so nothing is lost.
  const fields = { intent, tagName: String(form.get("tagName") ?? "") };
  const fail = (message: string) => formFailure(message, { status: 400, fields });
  if (query.problems.length) return fail(query.problems[0]!);

  let selection: BulkSelection;
  if (form.get("scope") === "matching") {
    selection = matchingSelection(query);
  } else {
    const raw = form.getAll("ids").map(String);
    if (raw.some((v) => !/^[1-9]\d{0,14}$/.test(v))) {
      return fail("Some ticked contacts were not recognised. Reload the page and try again.");
    }
    selection = { kind: "ids", ids: raw.map(Number) };
  }
  try {
    switch (intent) {
      case "tag":
      case "untag": {
        const name = String(form.get("tagName") ?? "");
        const result =
          intent === "tag"
            ? await bulkChangeMembership(wctx, "tag", selection, "add", { name: name })
            : await bulkChangeMembership(wctx, "tag", selection, "remove", { name: name });
        return redirectWithFlash(
          back,
          intent === "tag"
            ? `Tagged ${plural(result.changed)} “${result.name}”.`
            : `Took the tag “${result.name}” off ${plural(result.changed)}.`,
          result.changed ? "success" : "info",
        );
      }
      case "list-add":
      case "list-remove": {
        const listText = String(form.get("listId") ?? "");
        const listId = /^[1-9]\d{0,14}$/.test(listText) ? Number(listText) : NaN;
        const result =
          intent === "list-add"
            ? await bulkChangeMembership(wctx, "list", selection, "add", { id: listId })
            : await bulkChangeMembership(wctx, "list", selection, "remove", { id: listId });
        return redirectWithFlash(
          back,
          intent === "list-add"
            ? `Added ${plural(result.changed)} to the list “${result.name}”.`
            : `Removed ${plural(result.changed)} from the list “${result.name}”.`,
          result.changed ? "success" : "info",
        );
      }
      case "export": {
        bulkExport(wctx, selection);
        return redirectWithFlash(
          `${base}/export`,
          "Export started. It appears below with a download link when the file is ready.",
        );
      }
      default: {
        const count = countSelection(wctx, selection);
        if (count === 0) return fail("None of the chosen contacts exist any more.");
        const erase = form.get("erase") === "on";
        const expected = Number(form.get("expected") ?? "");
        // The count shown when asking is an upper bound: more contacts than were confirmed
        // (an import added some since) means asking again.
        if (form.get("confirm") !== "yes" || !(count <= expected)) {
          const confirm: DeleteConfirmation = {
            count,
            erase,
            changed: form.get("confirm") === "yes",
            scope: selection.kind,
            ids: selection.kind === "ids" ? selection.ids : [],
            query: queryText,
          };
          return data({ confirm });
        }
        const result = await bulkDelete(wctx, selection, { erase });
        return redirectWithFlash(
          back,
          erase
            ? `Erased ${plural(result.changed)}. Their email addresses and phone numbers stay on the suppression list as unreadable hashes, so they cannot be re-added.`
            : `Deleted ${plural(result.changed)}.`,
        );
      }
    }
  } catch (error) {
    return formFailure(error, { fields });
  }
}
