/** SAN parsing of services/src/server/peer-identity.ts. */
import { describe, expect, it } from "vitest";
import { parseSubjectAltNames } from "../../../services/src/server/peer-identity.ts";

describe("subject alternative names", () => {
  it("parses Node's text, quoted values included", () => {
    expect(
      parseSubjectAltNames('DNS:a.example, URI:spiffe://x/y, URI:"urn:a, b", IP Address:127.0.0.1'),
    ).toEqual([
      { type: "DNS", value: "a.example" },
      { type: "URI", value: "spiffe://x/y" },
      { type: "URI", value: "urn:a, b" },
      { type: "IP Address", value: "127.0.0.1" },
    ]);
    expect(parseSubjectAltNames(undefined)).toEqual([]);
  });
});
