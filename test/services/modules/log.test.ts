/** The log guard of services/src/log.ts: no PEM text, bytes or key objects in a log line. */
import { describe, expect, it } from "vitest";
import { formatLine, scrub } from "../../../services/src/log.ts";

describe("log guard", () => {
  it("never lets PEM text, bytes or key objects through", () => {
    const pem = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMG\n-----END PRIVATE KEY-----\n";
    expect(scrub({ a: pem, b: [Buffer.from("secret")], c: { export: () => "" }, d: "fine" })).toEqual({
      a: "[redacted: PEM material]",
      b: ["[redacted: bytes]"],
      c: "[redacted: key object]",
      d: "fine",
    });
    const line = JSON.parse(formatLine("server", "error", "x", { error: new Error(`bad ${pem}`) }));
    expect(line.error).toEqual({ message: "[redacted: PEM material]" });
  });
});
