import {
  listFileMailbox,
  readFileMailboxMessage,
  type MailboxMessage,
} from "~/emails/transport.server";

/**
 * Mail in domain tests: sent to the file mailbox under DATA_DIR (no SES), with links on a fixed
 * address, and read back from there.
 */

/** Call at the top of a test file, before anything sends mail. */
export function sendMailToFiles(): void {
  // vitest copies Vite's import.meta.env into process.env; BASE_URL="/" is not a valid URL.
  process.env.BASE_URL = "https://engage.test";
  for (const name of ["SES_REGION", "SES_ACCESS_KEY_ID", "SES_SECRET_ACCESS_KEY"]) {
    delete process.env[name];
  }
}

/** Every message to exactly `address` (any case, with or without a display name), newest first. */
export async function mailTo(address: string): Promise<MailboxMessage[]> {
  const { items } = await listFileMailbox({ limit: 1_000, offset: 0 });
  const out: MailboxMessage[] = [];
  for (const item of items) {
    const message = await readFileMailboxMessage(item.id);
    const to = message?.to
      .replace(/^.*<|>.*$/g, "")
      .trim()
      .toLowerCase();
    if (message && to === address.toLowerCase()) out.push(message);
  }
  return out;
}
