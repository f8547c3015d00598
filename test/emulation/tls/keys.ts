/**
 * Private keys as the tls provider makes, encodes and parses them (upstream `common_key.go`,
 * `resource_private_key.go`): generation per algorithm, the PEM flavours, and the signing
 * parameters Go's crypto/x509 picks for a key.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  type KeyObject,
  sign,
} from "node:crypto";
import { promisify } from "node:util";
import * as der from "../x509/der.ts";
import { ProviderDiagnosticError } from "./errors.ts";
import { hashForState, pemDecode, pemEncode } from "./pem.ts";

const generateKeyPairAsync = promisify(generateKeyPair);

export const ALGORITHMS = ["RSA", "ECDSA", "ED25519"] as const;
export type KeyAlgorithm = (typeof ALGORITHMS)[number];
export const ECDSA_CURVES = ["P224", "P256", "P384", "P521"] as const;
export type EcdsaCurve = (typeof ECDSA_CURVES)[number];

const OPENSSL_CURVE: Record<EcdsaCurve, string> = {
  P224: "secp224r1",
  P256: "prime256v1",
  P384: "secp384r1",
  P521: "secp521r1",
};
const CURVE_BY_OPENSSL: Record<string, EcdsaCurve> = Object.fromEntries(
  Object.entries(OPENSSL_CURVE).map(([k, v]) => [v, k as EcdsaCurve]),
);

export async function generatePrivateKey(
  algorithm: KeyAlgorithm,
  rsaBits: number,
  curve: EcdsaCurve,
): Promise<KeyObject> {
  switch (algorithm) {
    case "RSA":
      // Go >= 1.24 refuses RSA keys under 1024 bits (without GODEBUG=rsa1024min=0).
      if (rsaBits < 1024) {
        throw new ProviderDiagnosticError(
          "Unable to generate Key from configuration",
          `crypto/rsa: ${rsaBits}-bit keys are insecure (see https://go.dev/pkg/crypto/rsa#hdr-Minimum_key_size)`,
        );
      }
      return (await generateKeyPairAsync("rsa", { modulusLength: rsaBits, publicExponent: 65537 }))
        .privateKey;
    case "ECDSA":
      return (await generateKeyPairAsync("ec", { namedCurve: OPENSSL_CURVE[curve] })).privateKey;
    case "ED25519":
      return (await generateKeyPairAsync("ed25519")).privateKey;
  }
}

export function algorithmOf(key: KeyObject): KeyAlgorithm {
  switch (key.asymmetricKeyType) {
    case "rsa":
      return "RSA";
    case "ec":
      return "ECDSA";
    case "ed25519":
      return "ED25519";
    default:
      throw new Error(`unsupported private key type: ${key.asymmetricKeyType}`);
  }
}

export function curveOf(key: KeyObject): EcdsaCurve | undefined {
  return CURVE_BY_OPENSSL[String(key.asymmetricKeyDetails?.namedCurve)];
}

/** `private_key_pem`: PKCS#1 for RSA, SEC1 for ECDSA, PKCS#8 for Ed25519. */
export function privateKeyPem(key: KeyObject): string {
  switch (algorithmOf(key)) {
    case "RSA":
      return pemEncode("RSA PRIVATE KEY", key.export({ type: "pkcs1", format: "der" }));
    case "ECDSA":
      return pemEncode("EC PRIVATE KEY", key.export({ type: "sec1", format: "der" }));
    case "ED25519":
      return pemEncode("PRIVATE KEY", key.export({ type: "pkcs8", format: "der" }));
  }
}

export function privateKeyPemPkcs8(key: KeyObject): string {
  return pemEncode("PRIVATE KEY", key.export({ type: "pkcs8", format: "der" }));
}

export function spkiDer(key: KeyObject): Buffer {
  return createPublicKey(key).export({ type: "spki", format: "der" });
}

/** The PrivateKey resource id: hex SHA-1 of the PKIX public key DER. */
export function publicKeyId(key: KeyObject): string {
  return hashForState(spkiDer(key));
}

const PARSERS: Record<string, "pkcs1" | "sec1" | "pkcs8"> = {
  "RSA PRIVATE KEY": "pkcs1",
  "EC PRIVATE KEY": "sec1",
  "PRIVATE KEY": "pkcs8",
};
const KNOWN_PREAMBLES = new Set([
  "PUBLIC KEY",
  "CERTIFICATE",
  "CERTIFICATE REQUEST",
  ...Object.keys(PARSERS),
]);

/** upstream `parsePrivateKeyPEM`, with its error texts (the Go parser's own message aside). */
export function parsePrivateKeyPem(pem: string): { key: KeyObject; algorithm: KeyAlgorithm } {
  const block = pemDecode(pem);
  if (!block) {
    const length = Buffer.byteLength(pem);
    throw new Error(`failed to decode PEM block: decoded bytes 0, undecoded ${length}`);
  }
  if (!KNOWN_PREAMBLES.has(block.type)) throw new Error(`unsupported PEM preamble/type: ${block.type}`);
  const type = PARSERS[block.type];
  if (!type) throw new Error(`unable to determine parser for PEM preamble: ${block.type}`);
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: block.der, format: "der", type });
  } catch (err) {
    throw new Error(
      `failed to parse private key given PEM preamble '${block.type}': ${(err as Error).message}`,
    );
  }
  if (key.asymmetricKeyType === "ec" && !curveOf(key)) {
    throw new Error(
      `failed to parse private key given PEM preamble '${block.type}': x509: unknown elliptic curve`,
    );
  }
  try {
    return { key, algorithm: algorithmOf(key) };
  } catch (err) {
    throw new Error(`failed to determine key algorithm for private key: ${(err as Error).message}`);
  }
}

/**
 * The signature algorithm Go's x509 picks for a signing key (the provider never sets one):
 * RSA -> SHA256WithRSA, ECDSA P-224/P-256 -> ECDSA-SHA256, P-384 -> SHA384, P-521 -> SHA512,
 * Ed25519 -> PureEd25519.
 */
export function signatureParams(key: KeyObject): { algorithmIdentifier: Buffer; hash: string | null } {
  switch (algorithmOf(key)) {
    case "RSA":
      return {
        algorithmIdentifier: der.sequence(der.oid("1.2.840.113549.1.1.11"), der.nullValue()),
        hash: "sha256",
      };
    case "ECDSA": {
      const curve = curveOf(key);
      const [oid, hash] =
        curve === "P384"
          ? ["1.2.840.10045.4.3.3", "sha384"]
          : curve === "P521"
            ? ["1.2.840.10045.4.3.4", "sha512"]
            : ["1.2.840.10045.4.3.2", "sha256"];
      return { algorithmIdentifier: der.sequence(der.oid(oid)), hash };
    }
    case "ED25519":
      return { algorithmIdentifier: der.sequence(der.oid("1.3.101.112")), hash: null };
  }
}

/** Signs a to-be-signed structure and wraps it as SEQUENCE { tbs, algorithm, BIT STRING sig }. */
export function signStructure(tbs: Buffer, key: KeyObject): Buffer {
  const { algorithmIdentifier, hash } = signatureParams(key);
  // RSA: PKCS#1 v1.5 (node's default padding); ECDSA: DER-encoded (r, s) as X.509 wants.
  const signature = sign(hash, tbs, key);
  return der.sequence(tbs, algorithmIdentifier, der.bitString(signature));
}

/**
 * Subject Key Identifier as upstream `generateSubjectKeyID` computes it: SHA-1 of
 * RSA: PKCS#1 RSAPublicKey DER; ECDSA: the uncompressed point; Ed25519: `asn1.Marshal([]byte)`,
 * i.e. the 32-byte key wrapped in an OCTET STRING (not RFC 5280 method 1).
 */
export function subjectKeyId(spki: Buffer): Buffer {
  const publicKey = createPublicKey({ key: spki, format: "der", type: "spki" });
  const bitStringNode = der.children(der.parse(spki))[1];
  if (!bitStringNode) throw new Error("malformed SubjectPublicKeyInfo");
  const keyBits = bitStringNode.content.subarray(1);
  let material: Buffer;
  switch (publicKey.asymmetricKeyType) {
    case "rsa":
      material = publicKey.export({ type: "pkcs1", format: "der" });
      break;
    case "ec":
      material = keyBits;
      break;
    case "ed25519":
      material = der.octetString(keyBits);
      break;
    default:
      throw new Error(`unsupported public key type ${publicKey.asymmetricKeyType}`);
  }
  return createHash("sha1").update(material).digest();
}
