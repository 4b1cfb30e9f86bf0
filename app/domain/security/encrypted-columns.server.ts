import type { SQLiteColumn, SQLiteTable } from "drizzle-orm/sqlite-core";
import { dsarRequests, integrations, users } from "~/db/schema/control";
import { inboundEmailSettings } from "~/db/schema/tenant-inbox";

/**
 * The one registry of every vault-encrypted column. `keys rotate` re-encrypts exactly what is
 * listed here, so a new encrypted column is one line below, in the same change that adds it.
 *
 * aadPrefix is part of every stored ciphertext's authentication: the value at row `id` is
 * encrypted with aad `${aadPrefix}:${id}` (see aadFor). Never change an existing prefix; a new
 * entry uses `<table>.<column>` in SQL names.
 */
export interface EncryptedColumn {
  /** Which database holds the table: the control db, or every workspace's own file. */
  db: "control" | "tenant";
  table: SQLiteTable;
  /** The row's primary key, part of the aad. */
  id: SQLiteColumn;
  /** Nullable text column holding `v1.<keyId>.<...>` ciphertexts. */
  column: SQLiteColumn;
  aadPrefix: string;
}

export const encryptedColumns = [
  {
    db: "control",
    table: users,
    id: users.id,
    column: users.totpSecretEnc,
    aadPrefix: "users.totp_secret_enc",
  },
  {
    db: "control",
    table: integrations,
    id: integrations.id,
    column: integrations.configEnc,
    aadPrefix: "integrations.config_enc",
  },
  // A privacy requester's identifiers and what they asked to change.
  {
    db: "control",
    table: dsarRequests,
    id: dsarRequests.id,
    column: dsarRequests.emailEnc,
    aadPrefix: "dsar_requests.email_enc",
  },
  {
    db: "control",
    table: dsarRequests,
    id: dsarRequests.id,
    column: dsarRequests.phoneEnc,
    aadPrefix: "dsar_requests.phone_enc",
  },
  {
    db: "control",
    table: dsarRequests,
    id: dsarRequests.id,
    column: dsarRequests.detailsEnc,
    aadPrefix: "dsar_requests.details_enc",
  },
  // The signing secret of a workspace's inbound email forwarder webhook.
  {
    db: "tenant",
    table: inboundEmailSettings,
    id: inboundEmailSettings.id,
    column: inboundEmailSettings.webhookSecretEnc,
    aadPrefix: "inbound_email_settings.webhook_secret_enc",
  },
  {
    db: "tenant",
    table: inboundEmailSettings,
    id: inboundEmailSettings.id,
    column: inboundEmailSettings.mailgunSigningKeyEnc,
    aadPrefix: "inbound_email_settings.mailgun_signing_key_enc",
  },
] as const satisfies readonly EncryptedColumn[];

/** The aad binding a ciphertext to one row of one column, e.g. `users.totp_secret_enc:usr_1`. */
export function aadFor(entry: Pick<EncryptedColumn, "aadPrefix">, id: string | number): string {
  return `${entry.aadPrefix}:${id}`;
}

/** The registry entries for one kind of database. */
export function encryptedColumnsIn(db: EncryptedColumn["db"]): readonly EncryptedColumn[] {
  return encryptedColumns.filter((entry) => entry.db === db);
}
