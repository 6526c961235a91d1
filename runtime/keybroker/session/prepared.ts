/**
 * JWE key agreements prepared at /attest for the session's first resource response (an ephemeral
 * key and the ECDH, computed while the token travels), kept by the replica that computed them: the
 * resource request that reaches the same replica with the session's own token takes it, once; any
 * other replica, or a later request, prepares a new one. Unused ones are forgotten after `ttlMs`
 * with their content key zeroed.
 */
import type { PreparedJwe } from "../../kbs-protocol/index.js";

/** Prepared agreements by session id (see the file comment). */
export class PreparedAgreements {
  private readonly byId = new Map<string, { token: string; p: Promise<PreparedJwe>; timer: NodeJS.Timeout }>();

  constructor(private readonly ttlMs: number) {}

  /** Keeps `p` for the session's token. */
  put(sessionId: string, token: string, p: Promise<PreparedJwe>): void {
    this.drop(sessionId);
    const timer = setTimeout(() => this.drop(sessionId), this.ttlMs);
    timer.unref();
    this.byId.set(sessionId, { token, p, timer });
  }

  /** The agreement of `sessionId` when `token` is its token; handed out once. */
  take(sessionId: string, token: string): Promise<PreparedJwe> | undefined {
    const e = this.byId.get(sessionId);
    if (!e || e.token !== token) return undefined;
    clearTimeout(e.timer);
    this.byId.delete(sessionId);
    return e.p;
  }

  /** Forgets every agreement (zeroing their content keys). */
  close(): void {
    for (const id of [...this.byId.keys()]) this.drop(id);
  }

  private drop(sessionId: string): void {
    const e = this.byId.get(sessionId);
    if (!e) return;
    clearTimeout(e.timer);
    this.byId.delete(sessionId);
    void e.p.then(
      (p) => p.cek.fill(0),
      () => undefined,
    );
  }
}
