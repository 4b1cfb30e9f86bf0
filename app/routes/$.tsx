import { data } from "@remix-run/node";

/** Every unknown path is a 404 rendered by the root error boundary. */
export function loader() {
  throw data({ message: "Not found" }, { status: 404 });
}

export function action() {
  throw data({ message: "Not found" }, { status: 404 });
}

export default function NotFound() {
  return null;
}
