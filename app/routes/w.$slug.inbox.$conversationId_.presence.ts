import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import type { Permission } from "~/auth/permissions";
import { requireWorkspace, requireWorkspaceIntent } from "~/auth/workspace.server";
import { conversationPresence, recordPresence } from "~/domain/inbox/presence.server";
import { parseId } from "~/lib/ids";

/**
 * Who is viewing or replying in a conversation, as JSON for the conversation page's script.
 *
 *   GET                    { presence: [{ userId, name, activity, at }] }     (inbox:read)
 *   POST intent=viewing    the member has the conversation open               (inbox:read)
 *   POST intent=replying   the member is writing a reply (the soft lock)      (inbox:reply)
 *   POST intent=left       the member closed it (also sent by sendBeacon)     (inbox:read)
 *
 * A conversation the member may not see is a 404, as if it did not exist.
 */

const NEEDS = {
  viewing: "inbox:read",
  replying: "inbox:reply",
  left: "inbox:read",
} as const satisfies Record<string, Permission>;

const HEADERS = { "Cache-Control": "no-store" };

export async function loader(args: LoaderFunctionArgs) {
  const { wctx } = await requireWorkspace(args, "inbox:read");
  const id = parseId(args.params.conversationId, "Conversation");
  return Response.json({ presence: conversationPresence(wctx, id) }, { headers: HEADERS });
}

export async function action(args: ActionFunctionArgs) {
  let form: FormData;
  try {
    form = await args.request.formData();
  } catch {
    form = new FormData();
  }
  const { wctx, user, intent } = await requireWorkspaceIntent(args, form, NEEDS);
  const id = parseId(args.params.conversationId, "Conversation");
  const presence = recordPresence(wctx, id, { id: user.id, name: user.name }, intent);
  return Response.json({ presence }, { headers: HEADERS });
}
