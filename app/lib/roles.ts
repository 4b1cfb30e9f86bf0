/** Workspace roles, from most to least powerful. The permission table is in app/auth/permissions. */
export const ROLES = ["owner", "admin", "marketer", "agent", "viewer"] as const;
export type Role = (typeof ROLES)[number];
