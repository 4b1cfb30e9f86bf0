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
  /** Exit code (default 0). Results go to stdout as JSON lines. */
  run(args: CommandArgs): Promise<number | void> | number | void;
}

/** A mistake in how the command was called: printed as one line, exit code 2. */
export class UsageError extends Error {}

export function print(value: unknown): void {
  process.stdout.write(JSON.stringify(value) + "\n");
}

export function stringOption(args: CommandArgs, name: string): string {
  const value = args.values[name];
  if (typeof value !== "string" || value === "") throw new UsageError(`--${name} is required`);
  return value;
}
