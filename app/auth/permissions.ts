/**
 * Roles as people see them, and the permission table (app/lib/permission-table.ts). Every workspace
 * loader and action names the permission it needs (requireWorkspace(..., "members:manage"));
 * pages use `can` to hide what a role can't do.
 */
import { ROLES, type Role } from "~/lib/roles";

export { ROLES, type Role };
export { can, PERMISSIONS, type Permission } from "~/lib/permission-table";

export const ROLE_LABELS: Record<Role, string> = {
  owner: "Owner",
  admin: "Admin",
  marketer: "Marketer",
  agent: "Agent",
  viewer: "Viewer",
};

export const ROLE_DESCRIPTIONS: Record<Role, string> = {
  owner: "Everything, including transferring ownership of the workspace.",
  admin: "Everything except transferring ownership: members, security, settings, API keys.",
  marketer: "Contacts, segments, templates, campaigns and their reports.",
  agent:
    "Reads and answers conversations in the inbox; read-only access to contacts, lists and segments; cannot export contacts.",
  viewer: "Read-only access to contacts, campaigns and reports; cannot export contacts.",
};
