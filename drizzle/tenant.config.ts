import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "sqlite",
  schema: ["./app/db/schema/tenant.ts", "./app/db/schema/tenant-inbox.ts"],
  out: "./drizzle/tenant",
});
