/** The allow-list of services/src/server/authorization.ts. */
import { describe, expect, it } from "vitest";
import { createAllowList, isAllowed } from "../../../services/src/server/authorization.ts";
import type { PeerIdentity } from "../../../services/src/server/peer-identity.ts";

describe("allow-list", () => {
  const peer = (commonName: string | null, uris: string[] = []): PeerIdentity => ({
    commonName,
    uris,
    dnsNames: [],
    serialNumber: "01",
    fingerprint256: "",
    notAfter: "",
    issuer: null,
  });

  it("matches common names and full URI SANs exactly", () => {
    const list = createAllowList(["client-a", "spiffe://example.org/b"]);
    expect(isAllowed(list, peer("client-a"))).toBe(true);
    expect(isAllowed(list, peer("Client-A"))).toBe(false);
    expect(isAllowed(list, peer("other", ["spiffe://example.org/b"]))).toBe(true);
    expect(isAllowed(list, peer("spiffe://example.org/b"))).toBe(false); // a URI entry never matches a CN
    expect(isAllowed(list, peer("other", ["spiffe://example.org/b/c"]))).toBe(false);
    expect(isAllowed(createAllowList([]), peer(null))).toBe(true);
  });
});
