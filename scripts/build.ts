import { build } from "./lib/build";

// `npm run build`: the Vite/Remix production build plus the stamp that lets `npm start` skip it.
try {
  build(process.cwd());
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
