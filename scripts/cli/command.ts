import type { ParseArgsConfig } from "node:util";

export type OptionSpec = NonNullable<ParseArgsConfig["options"]>;

export interface CommandArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** One operator command: `npm run engage -- <path...> [positionals] [--options]`. */
export interface Command {
  path: string[];
  summary: string;
  /** Positional arguments, in order, for the usage line; all required. */
  positionals?: string[];
  options?: OptionSpec;
  /** Options that must be present. */
  required?: string[];
  /** Exit code (default 0). Results go to `io` as JSON lines, never straight to the process. */
  run(args: CommandArgs, io: CliOutput): Promise<number | void> | number | void;
}

/**
 * Where a command's results and error lines go: the process's stdout/stderr when run as
 * `npm run engage`, captured strings when tests run the CLI in-process.
 */
export interface CliOutput {
  /** One result as a JSON line on stdout. */
  print(value: unknown): void;
  /** One line on stderr. */
  error(line: string): void;
  /** Free text on stdout (help). */
  text(line: string): void;
}

/** A mistake in how the command was called: printed as one line, exit code 2. */
export class UsageError extends Error {}

export function stringOption(args: CommandArgs, name: string): string {
  const value = args.values[name];
  if (typeof value !== "string" || value === "") throw new UsageError(`--${name} is required`);
  return value;
}
