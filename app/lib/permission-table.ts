/**
 * The one permission table: which roles may do what. Plain data, so the auth layer (loaders and
 * actions name the permission they need), domain rules (who may reply in the inbox) and pages
 * (`can` hides what a role can't do) all read the same table. Labels and descriptions of the
 * roles are in app/auth/permissions.ts.
 */
import { ROLES, type Role } from "./roles";

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
