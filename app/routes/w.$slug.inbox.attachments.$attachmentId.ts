import type { LoaderFunctionArgs } from "@remix-run/node";
import { requireWorkspace } from "~/auth/workspace.server";
import { attachmentResponseHeaders, readAttachment } from "~/domain/inbox/attachments.server";
import { loadInboxMember } from "~/domain/inbox/members.server";

/**
 * /w/<slug>/inbox/attachments/<id> — an attachment's bytes, for members who may read the inbox
 * (and, for media a customer sent, see its conversation).
 * The type is the one sniffed when it was stored; nosniff keeps browsers from guessing another.
 * Another workspace's id is not in this workspace's file: a 404.
 */
export async function loader(args: LoaderFunctionArgs) {
  const { wctx, role } = await requireWorkspace(args, "inbox:read");
  const member = loadInboxMember(wctx, wctx.userId, role);
  const { attachment, bytes } = await readAttachment(wctx, args.params.attachmentId ?? "", member);
  return new Response(new Uint8Array(bytes), { headers: attachmentResponseHeaders(attachment) });
}
