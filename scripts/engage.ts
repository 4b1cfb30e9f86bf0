/**
 * Operator CLI: `npm run engage -- <command> [--options]`. Results are JSON lines on stdout;
 * logs go to stderr; errors are one line on stderr with a non-zero exit code.
 */
process.env.LOG_DESTINATION = "stderr";
process.env.LOG_LEVEL ??= "warn";

const { runEngage } = await import("./cli/main");
const code = await runEngage(process.argv.slice(2), {
  print: (value) => process.stdout.write(JSON.stringify(value) + "\n"),
  error: (line) => process.stderr.write(line + "\n"),
  text: (line) => process.stdout.write(line + "\n"),
});
// Close databases cleanly before exit so WAL is checkpointed.
const { closeAllTenantDbs } = await import("~/db/tenants.server");
const { closeControlDb } = await import("~/db/control.server");
closeAllTenantDbs();
closeControlDb();
process.exit(code);
