import { WorkerStartError } from "../errors.js";
import type { Link } from "../link/link.js";
import { LIVENESS } from "../wire/protocol.js";
import type { WorkerInfo } from "../worker/info.js";
import type { WorkerHandle } from "./workers.js";
import type { PendingRequest } from "./pending.js";

/** A request as the engine schedules it: its lifetime plus where it runs. */
export interface Job {
  request: PendingRequest;
  idempotent: boolean;
  attempts: number;
  member: Member | null;
}

/** A worker that said `ready`, as the engine tracks it. */
export interface Member {
  /** Unique among members: a ZeroMQ routing id in hex, or `local-<pid>-<random hex>` on the local link. */
  id: string;
  link: Link;
  info: WorkerInfo;
  /** The token a pool gives the workers it spawns; null for remote workers. */
  token: string | null;
  inFlight: Map<number, Job>;
  /** Anything came from it since the last heartbeat tick. */
  heard: boolean;
  /** Ticks in a row without a word from it: ticks, not wall time, so our own stalls do not count. */
  missed: number;
  lastUsed: number;
  process: WorkerHandle | null;
  /** It said `leaving` (a stop signal reached it): it gets no new requests, and goes once it has answered its own. */
  leaving: boolean;
}

/** The live workers: who joined, who is silent, and who has room for the next request. */
export class Members {
  private readonly byId = new Map<string, Member>();
  private readonly readyWaiters: (() => void)[] = [];

  get size(): number {
    return this.byId.size;
  }

  /** Members that take new requests: all but the leaving. */
  get available(): number {
    let n = 0;
    for (const m of this.byId.values()) if (!m.leaving) n++;
    return n;
  }

  get(id: string): Member | undefined {
    return this.byId.get(id);
  }

  all(): Member[] {
    return [...this.byId.values()];
  }

  /** True when no member has a request in flight (checked on every settle: no array is made). */
  get idle(): boolean {
    for (const m of this.byId.values()) if (m.inFlight.size > 0) return false;
    return true;
  }

  /** The member running `proc`, if its worker joined. */
  running(proc: WorkerHandle): Member | undefined {
    return this.all().find((m) => m.process === proc);
  }

  /**
   * Adds a worker that said `ready`. A local worker that made a new socket (after a long silence)
   * comes back under a new routing id: the same process, and the requests it holds go on under the new id.
   */
  join(id: string, link: Link, info: WorkerInfo, token: string | null, spawned: WorkerHandle | undefined): Member {
    const earlier = token ? this.all().find((m) => m.token === token) : undefined;
    if (earlier) {
      this.byId.delete(earlier.id);
      earlier.link.close();
    }
    const inFlight = earlier?.inFlight ?? new Map<number, Job>();
    const member: Member = { id, link, info, token, inFlight, heard: true, missed: 0, lastUsed: 0, process: spawned ?? earlier?.process ?? null, leaving: false };
    for (const job of inFlight.values()) job.member = member;
    this.byId.set(id, member);
    for (const waiter of this.readyWaiters.splice(0)) waiter();
    return member;
  }

  /** Takes `member` out; false if it was out already. */
  remove(member: Member): boolean {
    if (this.byId.get(member.id) !== member) return false;
    this.byId.delete(member.id);
    return true;
  }

  clear(): void {
    this.byId.clear();
  }

  /**
   * The member with the fewest requests in flight, below `limit`; among equals the one idle longest.
   * Leaving members only if `withLeaving` (a closing engine drains through every worker it has).
   */
  leastLoaded(limit: number, withLeaving = false): Member | null {
    let best: Member | null = null;
    for (const m of this.byId.values()) {
      if (m.inFlight.size >= limit || (m.leaving && !withLeaving)) continue;
      if (!best || m.inFlight.size < best.inFlight.size || (m.inFlight.size === best.inFlight.size && m.lastUsed < best.lastUsed)) best = m;
    }
    return best;
  }

  /**
   * One heartbeat interval passed: counts a miss for each member not heard from since the last one,
   * and returns those that missed `liveness` in a row. After a stall of this process (a blocked event
   * loop) the first tick sees nothing read yet and counts one miss, not the stall's length: the
   * workers' messages are waiting in the socket, read right after.
   */
  tick(): { silent: Member[]; alive: Member[] } {
    const silent: Member[] = [];
    const alive: Member[] = [];
    for (const m of this.byId.values()) {
      m.missed = m.heard ? 0 : m.missed + 1;
      m.heard = false;
      (m.missed >= LIVENESS ? silent : alive).push(m);
    }
    return { silent, alive };
  }

  /** Resolves once at least `count` workers are live and not leaving. */
  waitFor(count: number, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new WorkerStartError(`only ${this.available} of ${count} workers joined within ${timeoutMs} ms`)), timeoutMs);
      timer.unref(); // a start that failed otherwise must not keep Node alive until it comes due
      const check = () => {
        if (this.available >= count) {
          clearTimeout(timer);
          resolve();
        } else this.readyWaiters.push(check);
      };
      check();
    });
  }
}
