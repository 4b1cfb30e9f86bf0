/**
 * The operator CLI's entry, callable in-process: parses argv, runs one command and returns the
 * exit code. Everything it prints goes through `io`; scripts/engage.ts binds that to the
 * process and closes the databases.
 */
import { parseArgs } from "node:util";
import type { CliOutput, Command } from "./command";

async function loadCommands(): Promise<Command[]> {
  const { operationsCommands } = await import("./operations");
  const { accountsCommands } = await import("./accounts");
  const { contactsExportCommands } = await import("./contacts-export");
  const { contactsImportCommands } = await import("./contacts");
  return [
    ...operationsCommands,
    ...(await import("./keys")).keysCommands,
    ...accountsCommands,
    ...contactsExportCommands,
    ...contactsImportCommands,
    ...(await import("./integrations")).integrationsCommands,
    ...(await import("./policy")).policyCommands,
    ...(await import("./privacy")).privacyCommands,
    ...(await import("./billing")).billingCommands,
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

function printHelp(commands: Command[], io: CliOutput): void {
  io.text("Usage: npm run engage -- <command> [options]\n\nCommands:");
  for (const command of commands) {
    io.text(`  ${usageLine(command).padEnd(52)} ${command.summary}`);
  }
  io.text("\nRun a command with --help for its options.");
}

export async function runEngage(argv: string[], io: CliOutput): Promise<number> {
  const commands = await loadCommands();
  const words = argv.filter((a) => !a.startsWith("-"));
  const command = commands
    .filter((c) => c.path.every((part, i) => words[i] === part))
    .sort((a, b) => b.path.length - a.path.length)[0];
  if (!command) {
    if (argv.length === 0 || argv.includes("--help") || argv.includes("-h")) {
      printHelp(commands, io);
      return argv.length === 0 ? 2 : 0;
    }
    io.error(`error: unknown command "${words.join(" ")}"; see npm run engage -- --help`);
    return 2;
  }
  const rest = argv.slice(argv.indexOf(command.path[command.path.length - 1]!) + 1);
  if (rest.includes("--help") || rest.includes("-h")) {
    io.text(`Usage: npm run engage -- ${usageLine(command)}\n\n${command.summary}`);
    return 0;
  }
  const { UsageError } = await import("./command");
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
    return (await command.run(parsed as Parameters<Command["run"]>[0], io)) ?? 0;
  } catch (error) {
    const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
    io.error(`error: ${message}`);
    return error instanceof UsageError ? 2 : 1;
  }
}
