import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { packageRoot } from "./paths.js";

/** A mapping made by {@link ShmAddon.map}: opaque, and unmapped once it and every slice are collected. */
export type RegionHandle = { readonly __region: unique symbol };

/** native/shm.c: the POSIX calls Node lacks — mmap, and pointing fd 2 at /dev/null for a moment. */
export interface ShmAddon {
  map(fd: number, length: number): RegionHandle;
  slice(region: RegionHandle, offset: number, length: number): ArrayBuffer;
  detach(buffer: ArrayBuffer): void;
  /** fd 2 → /dev/null; returns a duplicate of the old fd 2 for {@link restoreStderr} (-1: nothing changed). */
  muteStderr(): number;
  restoreStderr(saved: number): void;
}

/** Where `make setup` (scripts/build-shm-addon.sh) puts the built addon. */
export const SHM_ADDON_PATH = join(packageRoot, "native", "build", "tfbridge_shm.node");

let loaded: ShmAddon | null | undefined;

/** The addon, or null when it is not built (the local link is then unavailable; ZeroMQ still is). */
export function shmAddon(): ShmAddon | null {
  if (loaded === undefined) loaded = existsSync(SHM_ADDON_PATH) ? (createRequire(import.meta.url)(SHM_ADDON_PATH) as ShmAddon) : null;
  return loaded;
}
