import { isRouteErrorResponse, useRouteError } from "@remix-run/react";
import { Alert } from "./ui/alert";

/**
 * For pages inside a layout: the error replaces only the page, so the navigation around it
 * stays. Says what happened in plain words and never shows internals.
 */
export function RouteErrorBoundary() {
  const error = useRouteError();
  let title = "Something went wrong";
  let detail = "We could not complete this request. Please try again in a moment.";
  if (isRouteErrorResponse(error)) {
    const message = (error.data as { message?: unknown } | null)?.message;
    if (error.status === 404) {
      title = "Not found";
      detail = "This does not exist or has been removed.";
    } else if (error.status === 403) {
      title = "Access denied";
      detail = typeof message === "string" ? message : "You do not have access to this page.";
    } else if (error.status < 500) {
      title = "We could not do that";
      detail = typeof message === "string" ? message : detail;
    }
  }
  return (
    <div className="route-error">
      <h1>{title}</h1>
      <Alert tone="error">{detail}</Alert>
    </div>
  );
}
