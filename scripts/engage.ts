/**
 * Operator CLI: `npm run engage -- <command> [--options]`. Results are JSON lines on stdout;
 * logs go to stderr; errors are one line on stderr with a non-zero exit code.
 */
import { parseArgs } from "node:util";
import type { Command } from "./cli/command";

process.env.LOG_DESTINATION = "stderr";
process.env.LOG_LEVEL ??= "warn";

async function loadCommands(): Promise<Command[]> {
  const { operationsCommands } = await import("./cli/operations");
  const { accountsCommands } = await import("./cli/accounts");
  const { contactsExportCommands } = await import("./cli/contacts-export");
  const { contactsImportCommands } = await import("./cli/contacts");
  return [
    ...operationsCommands,
    ...(await import("./cli/keys")).keysCommands,
    ...accountsCommands,
    ...contactsExportCommands,
    ...contactsImportCommands,
    ...(await import("./cli/integrations")).integrationsCommands,
    ...(await import("./cli/policy")).policyCommands,
    ...(await import("./cli/privacy")).privacyCommands,
  ];
}

function usageLine(command: Command): string {
  const positionals = (command.positionals ?? []).map((p) => `<${p}>`);
  const options = Object.entries(command.options ?? {}).map(([name, spec]) => {
    const text = spec.type === "boolean" ? `--${name}` : `--${name} ${name.toUpperCase()}`;
    return command.required?.includes(name) ? text : `[${text}]`;
  });
  return [...command.path, ...positionals, ...options].join(" ");
}

function printHelp(commands: Command[]): void {
  console.log("Usage: npm run engage -- <command> [options]\n\nCommands:");
  for (const command of commands) {
    console.log(`  ${usageLine(command).padEnd(52)} ${command.summary}`);
  }
  console.log("\nRun a command with --help for its options.");
}

async function main(argv: string[]): Promise<number> {
  const commands = await loadCommands();
  const words = argv.filter((a) => !a.startsWith("-"));
  const command = commands
    .filter((c) => c.path.every((part, i) => words[i] === part))
    .sort((a, b) => b.path.length - a.path.length)[0];
  if (!command) {
    if (argv.length === 0 || argv.includes("--help") || argv.includes("-h")) {
      printHelp(commands);
      return argv.length === 0 ? 2 : 0;
    }
    console.error(`error: unknown command "${words.join(" ")}"; see npm run engage -- --help`);
    return 2;
  }
  const rest = argv.slice(argv.indexOf(command.path[command.path.length - 1]!) + 1);
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(`Usage: npm run engage -- ${usageLine(command)}\n\n${command.summary}`);
    return 0;
  }
  const { UsageError } = await import("./cli/command");
  try {
    let parsed;
    try {
      parsed = parseArgs({
        args: rest,
        options: command.options ?? {},
        allowPositionals: true,
        strict: true,
      });
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const expected = command.positionals ?? [];
    if (parsed.positionals.length !== expected.length) {
      throw new UsageError(`usage: npm run engage -- ${usageLine(command)}`);
    }
    for (const name of command.required ?? []) {
      if (parsed.values[name] === undefined) throw new UsageError(`--${name} is required`);
    }
    return (await command.run(parsed as Parameters<Command["run"]>[0])) ?? 0;
  } catch (error) {
    const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
    console.error(`error: ${message}`);
    return error instanceof UsageError ? 2 : 1;
  }
}

const code = await main(process.argv.slice(2));
// Close databases cleanly before exit so WAL is checkpointed.
const { closeAllTenantDbs } = await import("~/db/tenants.server");
const { closeControlDb } = await import("~/db/control.server");
closeAllTenantDbs();
closeControlDb();
process.exit(code);
