import { cliContext } from "~/domain/context";
import { PROVIDERS } from "~/domain/delivery/integration-fields";
import {
  checkIntegration,
  isProvider,
  listIntegrations,
  removeIntegration,
  saveIntegrationChecked,
} from "~/domain/delivery/integrations.server";
import { findWorkspaceBySlug } from "~/domain/workspaces/workspaces.server";
import { ValidationError } from "~/lib/errors";
import { stringOption, UsageError, type Command, type CommandArgs } from "./command";

function workspaceOf(args: CommandArgs) {
  const slug = stringOption(args, "workspace");
  const workspace = findWorkspaceBySlug(slug);
  if (!workspace || workspace.status === "deleted") {
    throw new ValidationError(`--workspace: no workspace has the address "${slug}"`);
  }
  return workspace;
}

/**
 * `integrations add|list|check|remove`: the Channels settings page for operators. --config is
 * the form's fields as JSON with camelCase keys, e.g.
 * '{"phoneNumberId":"1065","wabaId":"2087","accessToken":"…","appSecret":"…","verifyToken":"…"}'.
 */
export const integrationsCommands: Command[] = [
  {
    path: ["integrations", "add"],
    summary: "Connect (or update) a workspace's channel provider; prints id and webhook URL",
    options: {
      workspace: { type: "string" },
      channel: { type: "string" },
      config: { type: "string" },
    },
    required: ["workspace", "channel", "config"],
    async run(args, io) {
      const workspace = workspaceOf(args);
      const provider = stringOption(args, "channel");
      if (!isProvider(provider)) {
        throw new UsageError(`--channel must be one of ${PROVIDERS.join(", ")}`);
      }
      let config: unknown;
      try {
        config = JSON.parse(stringOption(args, "config"));
      } catch {
        throw new UsageError("--config must be a JSON object of the form's fields");
      }
      if (!config || typeof config !== "object" || Array.isArray(config)) {
        throw new UsageError("--config must be a JSON object of the form's fields");
      }
      try {
        const saved = await saveIntegrationChecked(
          cliContext(),
          workspace.id,
          provider,
          config as Record<string, unknown>,
        );
        io.print({ id: saved.id, webhookUrl: saved.webhookUrl });
      } catch (error) {
        if (error instanceof ValidationError && Object.keys(error.fieldErrors).length > 0) {
          const [field, messages] = Object.entries(error.fieldErrors)[0]!;
          throw new ValidationError(`--config ${field}: ${messages[0]}`);
        }
        throw error;
      }
    },
  },
  {
    path: ["integrations", "list"],
    summary: "List a workspace's integrations (secrets masked)",
    options: { workspace: { type: "string" } },
    required: ["workspace"],
    run(args, io) {
      for (const integration of listIntegrations(workspaceOf(args).id)) io.print(integration);
    },
  },
  {
    path: ["integrations", "check"],
    summary: "Test an integration's connection to its provider",
    options: { workspace: { type: "string" }, id: { type: "string" } },
    required: ["workspace", "id"],
    async run(args, io) {
      const result = await checkIntegration(
        cliContext(),
        workspaceOf(args).id,
        stringOption(args, "id"),
      );
      io.print(result);
      return result.ok ? 0 : 1;
    },
  },
  {
    path: ["integrations", "remove"],
    summary: "Disconnect an integration (its channel falls back to the sandbox)",
    options: { workspace: { type: "string" }, id: { type: "string" } },
    required: ["workspace", "id"],
    run(args, io) {
      const workspace = workspaceOf(args);
      const id = stringOption(args, "id");
      removeIntegration(cliContext(), workspace.id, id);
      io.print({ removed: id });
    },
  },
];
