import type BetterSqlite3 from "better-sqlite3";

/**
 * Hot paths run the same SQL thousands of times a second; preparing it each time (which a query
 * builder does) costs more than running it. This keeps one prepared statement per connection
 * and SQL text. Use it for fixed SQL texts, or a small bounded set of them. The statement is
 * shared: a mode such as `.pluck()` stays set on it, so a caller that wants one sets it on every
 * call, and two callers wanting different modes use different texts.
 */

const caches = new WeakMap<BetterSqlite3.Database, Map<string, BetterSqlite3.Statement>>();
/** A runaway set of texts (a caller building SQL from data) is dropped, not kept forever. */
const MAX_PER_CONNECTION = 500;

export function cachedStatement(
  client: BetterSqlite3.Database,
  sql: string,
): BetterSqlite3.Statement {
  let cache = caches.get(client);
  if (!cache) {
    cache = new Map();
    caches.set(client, cache);
  }
  let statement = cache.get(sql);
  if (!statement) {
    statement = client.prepare(sql);
    if (cache.size >= MAX_PER_CONNECTION) cache.clear();
    cache.set(sql, statement);
  }
  return statement;
}
