import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The package's root folder; this file sits one level below it both as src/ and as dist/. */
export const packageRoot: string = fileURLToPath(new URL("..", import.meta.url));

/**
 * A JSON file from protocol/, the files the Python worker reads too. Its objects have no prototype:
 * they are tables looked up by names from models, specs and requests, where `constructor` or
 * `toString` must be found in none of them.
 */
export function readProtocolFile<T>(name: string): T {
  const withoutPrototype = (_key: string, value: unknown) =>
    value !== null && typeof value === "object" && !Array.isArray(value) ? Object.assign(Object.create(null) as object, value) : value;
  return JSON.parse(readFileSync(new URL(`../protocol/${name}`, import.meta.url), "utf8"), withoutPrototype) as T;
}
