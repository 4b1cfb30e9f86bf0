/**
 * The kinds of custom contact attribute: the one list for the schema, the attributes page and
 * segment conditions.
 */
export const ATTRIBUTE_TYPES = ["text", "number", "date", "boolean", "choice"] as const;
export type AttributeType = (typeof ATTRIBUTE_TYPES)[number];
