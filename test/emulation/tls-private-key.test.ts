/**
 * The emulated tls.PrivateKey has the plugin's shape: defaults (RSA 2048, ECDSA P-224 (!)), PEM
 * flavours with a trailing newline, OpenSSH encodings (empty for P-224), fingerprints, the id,
 * secrecy of the private parts, and the plugin's validation messages.
 */
import { execFileSync } from "node:child_process";
import { createHash, createPrivateKey, createPublicKey } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tls from "@pulumi/tls";
import { afterEach, describe, expect, test } from "vitest";
import { EmulatedEngine } from "./engine/engine.ts";
import { type ProgramRun, runProgram } from "./run-program.ts";
import { hashForState } from "./tls/pem.ts";
import { TlsProvider } from "./tls/provider.ts";
import { derFromPem } from "./x509/inspect.ts";

let engine: EmulatedEngine;

afterEach(async () => {
  await engine?.destroyAll();
});

const KEY_OUTPUTS = [
  "algorithm",
  "rsaBits",
  "ecdsaCurve",
  "privateKeyPem",
  "privateKeyPemPkcs8",
  "privateKeyOpenssh",
  "publicKeyPem",
  "publicKeyOpenssh",
  "publicKeyFingerprintMd5",
  "publicKeyFingerprintSha256",
  "id",
] as const;

/** Runs a one-key program and returns every output of the key as a stack output. */
async function runKey(args: tls.PrivateKeyArgs): Promise<ProgramRun> {
  engine = new EmulatedEngine([new TlsProvider()]);
  return runProgram({
    engine,
    project: "keys",
    stack: "test",
    program: async () => {
      const key = new tls.PrivateKey("key", args);
      return Object.fromEntries(KEY_OUTPUTS.map((k) => [k, key[k]]));
    },
  });
}

function str(run: ProgramRun, name: string): string {
  const v = run.exports[name];
  if (typeof v !== "string") throw new Error(`output ${name} is not a string: ${String(v)}`);
  return v;
}

describe("tls.PrivateKey", () => {
  test("RSA defaults to 2048 bits with a PKCS#1 private key PEM", async () => {
    const run = await runKey({ algorithm: "RSA" });
    expect(run.exports.rsaBits).toBe(2048);
    const pem = str(run, "privateKeyPem");
    expect(pem).toMatch(
      /^-----BEGIN RSA PRIVATE KEY-----\n(?:[A-Za-z0-9+/=]{64}\n)+[A-Za-z0-9+/=]{0,64}\n?-----END RSA PRIVATE KEY-----\n$/,
    );
    const key = createPrivateKey(pem);
    expect(key.asymmetricKeyType).toBe("rsa");
    expect(key.asymmetricKeyDetails).toMatchObject({ modulusLength: 2048, publicExponent: 65537n });
  });

  test("every key stores the default curve P224 and 2048 bits, whatever its algorithm", async () => {
    const run = await runKey({ algorithm: "ED25519" });
    expect(run.exports.ecdsaCurve).toBe("P224");
    expect(run.exports.rsaBits).toBe(2048);
  });

  test("ECDSA defaults to P-224, a SEC1 PEM, and empty OpenSSH fields", async () => {
    const run = await runKey({ algorithm: "ECDSA" });
    expect(run.exports.ecdsaCurve).toBe("P224");
    const pem = str(run, "privateKeyPem");
    expect(pem.startsWith("-----BEGIN EC PRIVATE KEY-----\n")).toBe(true);
    expect(pem.endsWith("-----END EC PRIVATE KEY-----\n")).toBe(true);
    expect(createPrivateKey(pem).asymmetricKeyDetails?.namedCurve).toBe("secp224r1");
    expect(run.exports.privateKeyOpenssh).toBe("");
    expect(run.exports.publicKeyOpenssh).toBe("");
    expect(run.exports.publicKeyFingerprintMd5).toBe("");
    expect(run.exports.publicKeyFingerprintSha256).toBe("");
  });

  test("ED25519 private key PEM is PKCS#8", async () => {
    const run = await runKey({ algorithm: "ED25519" });
    const pem = str(run, "privateKeyPem");
    expect(pem.startsWith("-----BEGIN PRIVATE KEY-----\n")).toBe(true);
    expect(createPrivateKey(pem).asymmetricKeyType).toBe("ed25519");
    expect(pem).toBe(run.exports.privateKeyPemPkcs8);
  });

  test.each([
    ["ECDSA", "P256", "prime256v1"],
    ["ECDSA", "P384", "secp384r1"],
    ["ECDSA", "P521", "secp521r1"],
  ])("%s %s generates a key on %s", async (algorithm, ecdsaCurve, openssl) => {
    const run = await runKey({ algorithm, ecdsaCurve });
    expect(createPrivateKey(str(run, "privateKeyPem")).asymmetricKeyDetails?.namedCurve).toBe(openssl);
  });

  test("PKCS#8 and public PEMs belong to the same key and end in a newline", async () => {
    const run = await runKey({ algorithm: "ECDSA", ecdsaCurve: "P256" });
    const pkcs8 = str(run, "privateKeyPemPkcs8");
    const pub = str(run, "publicKeyPem");
    expect(pkcs8).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/);
    expect(pub).toMatch(/^-----BEGIN PUBLIC KEY-----\n[\s\S]+\n-----END PUBLIC KEY-----\n$/);
    const fromPkcs8 = createPublicKey(createPrivateKey(pkcs8)).export({ type: "spki", format: "pem" });
    const fromSec1 = createPublicKey(createPrivateKey(str(run, "privateKeyPem"))).export({
      type: "spki",
      format: "pem",
    });
    expect(fromPkcs8).toBe(pub);
    expect(fromSec1).toBe(pub);
  });

  test("id is the hex SHA-1 of the PKIX public key DER", async () => {
    // An RSA SPKI ends in the exponent 0x010001, so no trailing "space" byte is trimmed here.
    const run = await runKey({ algorithm: "RSA" });
    const spki = derFromPem(str(run, "publicKeyPem"));
    expect(run.exports.id).toBe(createHash("sha1").update(spki).digest("hex"));
  });

  test("the id hash trims white space bytes off the DER, as Go's strings.TrimSpace does", () => {
    const der = Buffer.from([0x30, 0x03, 0x01, 0x02, 0x20]);
    expect(hashForState(der)).toBe(createHash("sha1").update(der.subarray(0, 4)).digest("hex"));
    expect(hashForState(Buffer.from([0x30, 0x01, 0x05]))).toBe(
      createHash("sha1")
        .update(Buffer.from([0x30, 0x01, 0x05]))
        .digest("hex"),
    );
  });

  describe("OpenSSH encodings are what ssh-keygen reads", () => {
    test.each([
      ["ED25519", undefined],
      ["ECDSA", "P256"],
      ["ECDSA", "P384"],
      ["ECDSA", "P521"],
      ["RSA", undefined],
    ])("%s %s", async (algorithm, ecdsaCurve) => {
      const run = await runKey({ algorithm, ecdsaCurve, rsaBits: algorithm === "RSA" ? 1024 : undefined });
      const dir = mkdtempSync(join(tmpdir(), "tls-emulation-ssh-"));
      try {
        const keyFile = join(dir, "id");
        writeFileSync(keyFile, str(run, "privateKeyOpenssh"), { mode: 0o600 });
        const pubFile = join(dir, "id.pub");
        writeFileSync(pubFile, str(run, "publicKeyOpenssh"));
        expect(str(run, "privateKeyOpenssh")).toMatch(
          /^-----BEGIN OPENSSH PRIVATE KEY-----\n[\s\S]+\n-----END OPENSSH PRIVATE KEY-----\n$/,
        );
        const derived = execFileSync("ssh-keygen", ["-y", "-f", keyFile], { encoding: "utf8" });
        expect(`${derived.trim()}\n`).toBe(run.exports.publicKeyOpenssh);
        const sha256 = execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", pubFile], {
          encoding: "utf8",
        });
        expect(sha256.split(" ")[1]).toBe(run.exports.publicKeyFingerprintSha256);
        const md5 = execFileSync("ssh-keygen", ["-l", "-E", "md5", "-f", pubFile], { encoding: "utf8" });
        expect(md5.split(" ")[1]).toBe(`MD5:${str(run, "publicKeyFingerprintMd5")}`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  test("private parts are secret; public outputs are not and hold no key material", async () => {
    const run = await runKey({ algorithm: "ECDSA", ecdsaCurve: "P256" });
    for (const name of ["privateKeyPem", "privateKeyPemPkcs8", "privateKeyOpenssh"]) {
      expect(run.isSecret(name), name).toBe(true);
    }
    const publicNames = KEY_OUTPUTS.filter((n) => !n.startsWith("private"));
    const scalar = createPrivateKey(str(run, "privateKeyPem")).export({ format: "jwk" }).d ?? "";
    const scalarB64 = Buffer.from(scalar, "base64url").toString("base64");
    for (const name of publicNames) {
      expect(run.isSecret(name), name).toBe(false);
      const value = String(run.exports[name]);
      expect(value).not.toContain("PRIVATE KEY");
      expect(value).not.toContain(scalarB64.slice(0, 16));
    }
  });

  test("rejects an algorithm the plugin does not support", async () => {
    await expect(runKey({ algorithm: "DSA" })).rejects.toThrow(
      `tls:index/privateKey:PrivateKey resource 'key' has a problem: Invalid Attribute Value Match. Attribute algorithm value must be one of: ["RSA" "ECDSA" "ED25519"], got: "DSA". Examine values at 'key.algorithm'.`,
    );
  });

  test("rejects a curve the plugin does not support", async () => {
    await expect(runKey({ algorithm: "ECDSA", ecdsaCurve: "P-256" })).rejects.toThrow(
      `Attribute ecdsa_curve value must be one of: ["P224" "P256" "P384" "P521"], got: "P-256"`,
    );
  });

  test("rejects RSA keys under 1024 bits as Go's crypto/rsa does", async () => {
    await expect(runKey({ algorithm: "RSA", rsaBits: 512 })).rejects.toThrow(
      "Unable to generate Key from configuration: crypto/rsa: 512-bit keys are insecure",
    );
  });
});
