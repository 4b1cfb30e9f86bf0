/**
 * Process-wide singletons that survive module re-evaluation.
 *
 * Vite's dev server re-evaluates changed modules (HMR) and the production host loads the app
 * from the built bundle while server.ts loads a few modules from source; both would otherwise
 * open a second set of database handles or register cron jobs twice.
 */
export function singleton<T>(name: string, create: () => T): T {
  const store = globalThis as typeof globalThis & { __engageSingletons?: Map<string, unknown> };
  store.__engageSingletons ??= new Map();
  if (!store.__engageSingletons.has(name)) store.__engageSingletons.set(name, create());
  return store.__engageSingletons.get(name) as T;
}
