import { checkHealth } from "~/domain/operations/health.server";

/** Liveness and readiness for Docker, Fly and the systemd watchdog. Never cached. */
export function loader() {
  const health = checkHealth();
  return Response.json(health, {
    status: health.status === "ok" ? 200 : 503,
    headers: { "Cache-Control": "no-store" },
  });
}
