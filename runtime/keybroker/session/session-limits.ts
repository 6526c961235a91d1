/**
 * Fairness of KBS session creation (pure). `/auth` is unauthenticated, so the session table is a
 * resource anyone can try to fill. Two rules keep attested runtimes served under a flood:
 *
 * - sessions are counted per peer, where a peer is an IPv4 address or an IPv6 /64 (one host or one
 *   subnet's worth of addresses), so one flooder cannot hold more than its share of challenges;
 * - when the table is full, the session evicted is an unattested one of the peer holding the most
 *   unattested sessions (its oldest first); attestations in progress are never evicted, and attested
 *   sessions only once they are older than the nonce lifetime (their token keeps working as a bearer
 *   token; only the cookie shortcut is lost), least recently created first.
 */
import { isIP } from "node:net";

/** What eviction looks at in a session. */
export interface EvictionCandidate {
  readonly id: string;
  readonly peer: string;
  readonly createdAt: number;
  readonly state: "challenged" | "attesting" | "attested" | "failed";
}

/**
 * The fairness key of a remote address: the IPv4 address (also when written IPv4-mapped, `::ffff:a.b.c.d`),
 * the first four groups of an IPv6 address (its /64), or `-` when unknown.
 *
 * @example peerKey("2001:db8:1:2:aaaa::1") // "2001:db8:1:2::/64"
 */
export function peerKey(address: string | undefined): string {
  if (address === undefined || address === "") return "-";
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return mapped[1];
  if (isIP(address) !== 6) return address;
  const [head = "", tail = ""] = address.toLowerCase().split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === "" ? [] : tail.split(":");
  const full = address.includes("::")
    ? [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right]
    : left;
  return `${full
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}

/**
 * The session to evict from a full table, or undefined when none may go (every session is an
 * attestation in progress, or attested less than `minAttestedAgeMs` ago).
 */
export function chooseEviction<T extends EvictionCandidate>(
  sessions: Iterable<T>,
  now: number,
  minAttestedAgeMs: number,
): T | undefined {
  const byPeer = new Map<string, T[]>();
  let oldestAttested: T | undefined;
  for (const s of sessions) {
    if (s.state === "challenged" || s.state === "failed") {
      const list = byPeer.get(s.peer);
      if (list) list.push(s);
      else byPeer.set(s.peer, [s]);
    } else if (s.state === "attested" && now - s.createdAt >= minAttestedAgeMs) {
      if (oldestAttested === undefined || s.createdAt < oldestAttested.createdAt) oldestAttested = s;
    }
  }
  let busiest: T[] | undefined;
  for (const list of byPeer.values()) {
    if (
      busiest === undefined ||
      list.length > busiest.length ||
      (list.length === busiest.length && oldestOf(list).createdAt < oldestOf(busiest).createdAt)
    )
      busiest = list;
  }
  return busiest ? oldestOf(busiest) : oldestAttested;
}

function oldestOf<T extends EvictionCandidate>(list: readonly T[]): T {
  let o = list[0] as T;
  for (const s of list) if (s.createdAt < o.createdAt) o = s;
  return o;
}
