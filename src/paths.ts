import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The package's root folder; this file sits one level below it both as src/ and as dist/. */
export const packageRoot: string = fileURLToPath(new URL("..", import.meta.url));

/** A JSON file from protocol/, the files the Python worker reads too. */
export function readProtocolFile<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../protocol/${name}`, import.meta.url), "utf8")) as T;
}
