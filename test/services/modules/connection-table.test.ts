/**
 * The books of services/src/server/connection-table.ts, on unconnected sockets: which
 * unauthenticated connection is closed for a newcomer (refused ones, then silent ones, then those
 * mid-handshake, oldest first; a silent one accepted in the newcomer's own event-loop turn could
 * not be read yet and is never taken), and which verified one is reclaimed (the longest idle,
 * never one with a request in flight), with the per-client counts.
 */
import { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { ConnectionTable } from "../../../services/src/server/connection-table.ts";
import type { PeerIdentity } from "../../../services/src/server/peer-identity.ts";

const peer = (commonName: string): PeerIdentity => ({
  commonName,
  uris: [],
  dnsNames: [],
  serialNumber: "01",
  fingerprint256: "AA",
  notAfter: new Date(Date.now() + 3_600_000).toUTCString(),
  issuer: null,
});

describe("the connection table", () => {
  it("gives up the oldest refused, then silent, then handshaking connection; never a silent one of this turn", () => {
    const table = new ConnectionTable();
    const handshaking = table.add(new Socket(), 1, 0);
    table.moveTo(handshaking, "handshaking", 2);
    const silentOld = table.add(new Socket(), 3, 0);
    const silentNew = table.add(new Socket(), 4, 1);
    const refused = table.add(new Socket(), 5, 1);
    table.moveTo(refused, "refused", 6);
    expect(table.count("unauthenticated")).toBe(4);

    expect(table.unauthenticatedVictim(1)).toBe(refused);
    table.remove(refused);
    expect(table.unauthenticatedVictim(1)).toBe(silentOld);
    table.remove(silentOld);
    // The oldest silent one was accepted in this turn: nothing is taken, the newcomer goes instead.
    expect(table.unauthenticatedVictim(1)).toBeUndefined();
    expect(table.unauthenticatedVictim(2)).toBe(silentNew);
    table.remove(silentNew);
    expect(table.unauthenticatedVictim(2)).toBe(handshaking);
  });

  it("reclaims the longest idle verified connection, never a busy one, and counts each client", () => {
    const table = new ConnectionTable();
    const [a1, a2, b1] = [
      table.add(new Socket(), 1, 0),
      table.add(new Socket(), 2, 0),
      table.add(new Socket(), 3, 0),
    ];
    table.verify(a1, peer("a"), "a", 10);
    table.verify(a2, peer("a"), "a", 11);
    table.verify(b1, peer("b"), "b", 12);
    expect([table.count("verified"), table.count("unauthenticated")]).toEqual([3, 0]);
    expect([table.countOf("a"), table.countOf("b")]).toEqual([2, 1]);
    expect(table.busiestClient()).toEqual({ client: "a", connections: 2 });

    table.markBusy(a1);
    expect(table.longestIdle()).toBe(a2);
    table.markIdle(a1, 20); // its response completed: now the most recently idle
    table.markBusy(a2);
    expect(table.longestIdle()).toBe(b1);
    expect(table.longestIdle("a")).toBe(a1);
    table.markBusy(a1);
    table.markBusy(b1);
    expect(table.longestIdle()).toBeUndefined();

    table.remove(a2);
    expect(table.countOf("a")).toBe(1);
    expect(table.clientsAt(1, 5)).toEqual(["a", "b"]);
  });
});
