import { closeSync, constants, ftruncateSync, openSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { LocalLinkUnavailableError } from "../errors.js";
import { Allocator } from "./allocator.js";
import { type RegionHandle, type ShmAddon, shmAddon } from "../native.js";

/**
 * One file of shared memory, mapped here and (by path, once) in the worker. The file is made 0600
 * under an unguessable name in a 0700 folder, and unlinked as soon as the worker has mapped it too:
 * from then on the memory has no name, and goes when both processes do, however they end.
 */
export class Region {
  /** The whole region, for writing into it. */
  readonly bytes: Uint8Array;
  readonly allocator: Allocator;
  private unlinked = false;

  private constructor(
    private readonly addon: ShmAddon,
    readonly path: string,
    readonly size: number,
    private readonly handle: RegionHandle,
  ) {
    this.bytes = new Uint8Array(addon.slice(handle, 0, size));
    this.allocator = new Allocator(size);
  }

  /** @throws {LocalLinkUnavailableError} without the addon, or when the file cannot be made or mapped. */
  static create(dir: string, size: number): Region {
    const addon = shmAddon();
    if (!addon) throw new LocalLinkUnavailableError("the local link's addon is not built: run `make setup` (scripts/build-shm-addon.sh), or use { link: \"zeromq\" }");
    const path = join(dir, randomBytes(16).toString("base64url"));
    let fd: number | undefined;
    try {
      fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      ftruncateSync(fd, size); // sparse: pages are backed only once written
      return new Region(addon, path, size, addon.map(fd, size));
    } catch (e) {
      try {
        unlinkSync(path);
      } catch {
        // never made
      }
      throw new LocalLinkUnavailableError(`could not make ${size} bytes of shared memory at ${path}: ${(e as Error).message}`);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  /** A new ArrayBuffer over `length` bytes at `offset`; the mapping stays while any such buffer lives. */
  slice(offset: number, length: number): ArrayBuffer {
    return this.addon.slice(this.handle, offset, length);
  }

  /** Empties every view over `buffer` (one of {@link slice}'s). */
  detach(buffer: ArrayBuffer): void {
    this.addon.detach(buffer);
  }

  /** Removes the file's name; the memory stays mapped. Idempotent. */
  unlink(): void {
    if (this.unlinked) return;
    this.unlinked = true;
    try {
      unlinkSync(this.path);
    } catch {
      // its folder went first
    }
  }
}
