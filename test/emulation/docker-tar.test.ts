/**
 * The one-file tar the emulation uploads with: read back by GNU tar, it carries exactly the path,
 * uid/gid, mode and content the provider's upload asked for.
 */
import { execFileSync } from "node:child_process";
import { describe, expect, test } from "vitest";
import { oneFileTar } from "./docker/tar.ts";

/** GNU tar's verbose listing, split into fields: permissions, owner, size, date, time, path. */
function listing(archive: Buffer): string[] {
  const text = execFileSync("tar", ["--absolute-names", "--numeric-owner", "--full-time", "-tvf", "-"], {
    input: archive,
    env: { ...process.env, TZ: "UTC" },
  });
  return text.toString().trim().split(/\s+/);
}

describe("one-file tar archives for uploads", () => {
  test("header carries path, numeric owner, mode and size", () => {
    const archive = oneFileTar({
      name: "/etc/mtls/tls.key",
      content: Buffer.from("KEY\n"),
      mode: 0o400,
      uid: 10001,
      gid: 10002,
      mtime: 0,
    });
    expect(listing(archive)).toEqual([
      "-r--------",
      "10001/10002",
      "4",
      "1970-01-01",
      "00:00:00",
      "/etc/mtls/tls.key",
    ]);
  });

  test("content comes back byte for byte, padded to whole blocks", () => {
    const content = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256));
    const archive = oneFileTar({ name: "/data/blob", content, mode: 0o644, uid: 0, gid: 0, mtime: 0 });
    expect(archive.length % 512).toBe(0);
    const extracted = execFileSync("tar", ["--absolute-names", "-xOf", "-"], { input: archive });
    expect(extracted.equals(content)).toBe(true);
  });

  test("paths longer than 100 bytes use the ustar prefix field", () => {
    const name = `/${"d".repeat(120)}/file.txt`;
    const archive = oneFileTar({ name, content: Buffer.from("x"), mode: 0o644, uid: 0, gid: 0, mtime: 0 });
    expect(listing(archive).at(-1)).toBe(name);
  });

  test("a uid too large for the header is an error, not a silently wrong owner", () => {
    expect(() =>
      oneFileTar({ name: "/a", content: Buffer.alloc(0), mode: 0o644, uid: 2 ** 21, gid: 0, mtime: 0 }),
    ).toThrow("tar: uid 2097152 does not fit a ustar header");
  });
});
