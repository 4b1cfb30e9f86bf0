/**
 * The one permission table. Every workspace loader and action names the permission it needs
 * (requireWorkspace(..., "members:manage")); pages use `can` to hide what a role can't do.
 */
import { ROLES, type Role } from "~/lib/roles";

export { ROLES, type Role };

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

const ALL: readonly Role[] = ROLES;
const MANAGERS: readonly Role[] = ["owner", "admin"];

export const PERMISSIONS = {
  "workspace:read": ALL,
  "workspace:settings": MANAGERS,
  "members:read": ALL,
  "members:manage": MANAGERS,
  "ownership:transfer": ["owner"],
  "security:manage": MANAGERS,
  "api_keys:manage": MANAGERS,
  "audit:read": MANAGERS,
  "billing:manage": ["owner"],
  "privacy:manage": MANAGERS,
  "contacts:read": ALL,
  "contacts:write": ["owner", "admin", "marketer"],
  // A file of every contact leaves the product with whoever downloads it: fewer roles than
  // reading one contact on a page. Covers contact exports and campaign recipient CSVs.
  "contacts:export": ["owner", "admin", "marketer"],
  "campaigns:read": ["owner", "admin", "marketer", "viewer"],
  "campaigns:write": ["owner", "admin", "marketer"],
  // Four eyes on large campaigns: an owner or admin other than the campaign's creator.
  "campaigns:approve": MANAGERS,
  "inbox:read": ["owner", "admin", "marketer", "agent"],
  "inbox:reply": ["owner", "admin", "agent"],
  // Teams, inbox rules, canned responses and the AI knowledge base.
  "inbox:manage": MANAGERS,
  "analytics:read": ["owner", "admin", "marketer", "viewer"],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

export function can(role: Role, permission: Permission): boolean {
  return (PERMISSIONS[permission] as readonly Role[]).includes(role);
}
