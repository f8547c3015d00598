/**
 * Key strength (`tls:index/privateKey:PrivateKey` inputs). The tls provider's defaults are the
 * trap: `ecdsaCurve` defaults to P224, which no mainstream TLS stack accepts, and RSA keys of any
 * size are created without complaint.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { configWith, message } from "../lib/define";
import { TLS } from "../lib/types";
import { isUnknown, knownNumber, plain } from "../lib/values";

const CURVES = ["P224", "P256", "P384", "P521"] as const;

export const ecdsaCurve: ResourceValidationPolicy = {
  name: "tls-key-ecdsa-curve",
  description:
    "ECDSA keys name a curve TLS stacks accept: not P224, and not left unset (the tls provider's default is P224).",
  enforcementLevel: "mandatory",
  remediationSteps:
    'Set ecdsaCurve: "P256" (or "P384") on the tls.PrivateKey. With this policy\'s enforcementLevel set to "remediate", the pack sets P256 itself.',
  configSchema: {
    properties: {
      allowedCurves: {
        type: "array",
        items: { type: "string", enum: [...CURVES] },
        default: ["P256", "P384", "P521"],
        description: "Curves an ECDSA key may use.",
      },
    },
  },
  validateResource: (args, report) => {
    if (args.type !== TLS.privateKey) return;
    const props = plain(args.props);
    if (props.algorithm !== "ECDSA") return;
    const { allowedCurves } = configWith(args, { allowedCurves: ["P256", "P384", "P521"] });
    const curve = props.ecdsaCurve;
    if (isUnknown(curve)) return;
    if (curve === undefined || curve === null || curve === "") {
      report(
        message({
          problem:
            "ecdsaCurve is not set, so the tls provider uses its default P224, which OpenSSL, Node and Go refuse in every handshake",
          fix: 'set ecdsaCurve: "P256" (or "P384")',
        }),
      );
    } else if (!allowedCurves.includes(String(curve))) {
      report(
        message({
          problem: `ecdsaCurve is ${curve}, not one of the allowed curves (${allowedCurves.join(", ")})`,
          fix: `set ecdsaCurve to one of ${allowedCurves.join(", ")}; the key is re-created`,
        }),
      );
    }
  },
  remediateResource: (args) => {
    if (args.type !== TLS.privateKey) return;
    const props = plain(args.props);
    if (props.algorithm !== "ECDSA") return;
    const curve = props.ecdsaCurve;
    if (curve !== undefined && curve !== null && curve !== "" && curve !== "P224") return;
    // Written through the pack's proxy, so any secret input stays secret.
    const writable = args.props as Record<string, unknown>;
    writable.ecdsaCurve = "P256";
    return writable;
  },
};

export const rsaBits: ResourceValidationPolicy = {
  name: "tls-key-rsa-bits",
  description: "RSA keys have at least the configured number of bits (default 2048).",
  enforcementLevel: "mandatory",
  remediationSteps: "Set rsaBits: 3072 (or at least minBits) on the tls.PrivateKey; the key is re-created.",
  configSchema: {
    properties: {
      minBits: {
        type: "integer",
        minimum: 2048,
        default: 2048,
        description: "Smallest RSA key size allowed, in bits.",
      },
    },
  },
  validateResource: (args, report) => {
    if (args.type !== TLS.privateKey) return;
    const props = plain(args.props);
    if (props.algorithm !== "RSA" || isUnknown(props.rsaBits)) return;
    const { minBits } = configWith(args, { minBits: 2048 });
    // The provider's default is 2048 bits.
    const bits = knownNumber(props.rsaBits) ?? 2048;
    if (bits >= minBits) return;
    const given =
      props.rsaBits === undefined
        ? "rsaBits is not set (the provider's default is 2048)"
        : `rsaBits is ${bits}`;
    report(
      message({
        problem: `${given}, below the minimum of ${minBits} bits`,
        fix: `set rsaBits: ${Math.max(minBits, 3072)}`,
      }),
    );
  },
};
