/**
 * OpenSSH encodings of a key, as golang.org/x/crypto/ssh writes them for the tls provider:
 * `MarshalPrivateKey(key, "")` (unencrypted "openssh-key-v1"), `MarshalAuthorizedKey`,
 * `FingerprintLegacyMD5` and `FingerprintSHA256`. Node has no OpenSSH encoder, hence this file.
 */
import { createHash, type KeyObject, randomBytes } from "node:crypto";
import { pemEncode } from "./pem.ts";

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

function sshString(data: Uint8Array | string): Buffer {
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : Buffer.from(data);
  return Buffer.concat([u32(bytes.length), bytes]);
}

/** SSH mpint from unsigned big-endian bytes: minimal, with a 0x00 when the high bit is set. */
function mpint(unsigned: Uint8Array): Buffer {
  let bytes = Buffer.from(unsigned);
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  bytes = bytes.subarray(i);
  if (bytes.length > 0 && (bytes[0] ?? 0) & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return sshString(bytes);
}

function b64u(s: string | undefined): Buffer {
  if (s === undefined) throw new Error("openssh: key component missing from JWK export");
  return Buffer.from(s, "base64url");
}

const SSH_CURVES: Record<string, { keyType: string; curve: string }> = {
  prime256v1: { keyType: "ecdsa-sha2-nistp256", curve: "nistp256" },
  secp384r1: { keyType: "ecdsa-sha2-nistp384", curve: "nistp384" },
  secp521r1: { keyType: "ecdsa-sha2-nistp521", curve: "nistp521" },
};

interface SshParts {
  keyType: string;
  publicBlob: Buffer;
  /** The key-type specific private fields, before the comment. */
  privateFields: Buffer;
}

/** undefined when x/crypto/ssh cannot represent the key (ECDSA P-224). */
function sshParts(privateKey: KeyObject): SshParts | undefined {
  const curve = SSH_CURVES[String(privateKey.asymmetricKeyDetails?.namedCurve)];
  // x/crypto/ssh has no P-224 (and node no JWK for it): the provider stores empty strings.
  if (privateKey.asymmetricKeyType === "ec" && !curve) return undefined;
  const jwk = privateKey.export({ format: "jwk" });
  switch (privateKey.asymmetricKeyType) {
    case "rsa": {
      const e = mpint(b64u(jwk.e));
      const n = mpint(b64u(jwk.n));
      return {
        keyType: "ssh-rsa",
        publicBlob: Buffer.concat([sshString("ssh-rsa"), e, n]),
        // x/crypto/ssh: N, E, D, Iqmp, P, Q (E and N swap places between public and private).
        privateFields: Buffer.concat([
          n,
          e,
          mpint(b64u(jwk.d)),
          mpint(b64u(jwk.qi)),
          mpint(b64u(jwk.p)),
          mpint(b64u(jwk.q)),
        ]),
      };
    }
    case "ec": {
      if (!curve) return undefined;
      const point = Buffer.concat([Buffer.from([4]), b64u(jwk.x), b64u(jwk.y)]);
      return {
        keyType: curve.keyType,
        publicBlob: Buffer.concat([sshString(curve.keyType), sshString(curve.curve), sshString(point)]),
        privateFields: Buffer.concat([sshString(curve.curve), sshString(point), mpint(b64u(jwk.d))]),
      };
    }
    case "ed25519": {
      const pub = b64u(jwk.x);
      const seed = b64u(jwk.d);
      return {
        keyType: "ssh-ed25519",
        publicBlob: Buffer.concat([sshString("ssh-ed25519"), sshString(pub)]),
        privateFields: Buffer.concat([sshString(pub), sshString(Buffer.concat([seed, pub]))]),
      };
    }
    default:
      return undefined;
  }
}

export interface OpenSshEncodings {
  privateKeyOpenssh: string;
  publicKeyOpenssh: string;
  publicKeyFingerprintMd5: string;
  publicKeyFingerprintSha256: string;
}

/** All four fields; empty strings where x/crypto/ssh cannot encode the key (P-224), as the provider stores. */
export function openSshEncodings(privateKey: KeyObject): OpenSshEncodings {
  const parts = sshParts(privateKey);
  if (!parts) {
    return {
      privateKeyOpenssh: "",
      publicKeyOpenssh: "",
      publicKeyFingerprintMd5: "",
      publicKeyFingerprintSha256: "",
    };
  }
  const check = randomBytes(4);
  let privateBlock = Buffer.concat([
    check,
    check,
    sshString(parts.keyType),
    parts.privateFields,
    sshString(""),
  ]);
  const padding: number[] = [];
  for (let i = 0; (privateBlock.length + i) % 8 !== 0; i++) padding.push(i + 1);
  privateBlock = Buffer.concat([privateBlock, Buffer.from(padding)]);
  const container = Buffer.concat([
    Buffer.from("openssh-key-v1\0", "latin1"),
    sshString("none"),
    sshString("none"),
    sshString(""),
    u32(1),
    sshString(parts.publicBlob),
    sshString(privateBlock),
  ]);
  const md5 = createHash("md5").update(parts.publicBlob).digest("hex");
  return {
    privateKeyOpenssh: pemEncode("OPENSSH PRIVATE KEY", container),
    publicKeyOpenssh: `${parts.keyType} ${parts.publicBlob.toString("base64")}\n`,
    publicKeyFingerprintMd5: md5.match(/../g)?.join(":") ?? "",
    publicKeyFingerprintSha256: `SHA256:${createHash("sha256").update(parts.publicBlob).digest("base64").replace(/=+$/, "")}`,
  };
}
