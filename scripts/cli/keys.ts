import { cliContext } from "~/domain/context";
import { rotateEncryptionKeys } from "~/domain/security/keys.server";
import { generateEncryptionKey, keyIdFor } from "~/lib/crypto/vault.server";
import { type Command } from "./command";

export const keysCommands: Command[] = [
  {
    path: ["keys", "generate"],
    summary: "Print a new random encryption key (base64) for ENCRYPTION_KEY",
    run(_args, io) {
      const key = generateEncryptionKey();
      io.print({ key, keyId: keyIdFor(Buffer.from(key, "base64")) });
    },
  },
  {
    path: ["keys", "rotate"],
    summary: "Re-encrypt every stored secret under ENCRYPTION_KEY (after a restart with it)",
    async run(_args, io) {
      const result = await rotateEncryptionKeys(cliContext());
      io.print({ rotated: result.control + result.tenants, ...result });
      return result.failed.length === 0 ? 0 : 1;
    },
  },
];
