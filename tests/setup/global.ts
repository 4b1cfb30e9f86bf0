import { ensureBuild } from "../../scripts/lib/build";

/** Route tests boot the real server, which serves the production build: make sure it exists once. */
export default function setup() {
  ensureBuild(process.cwd(), (message) => console.log(message));
}
