/**
 * Certificate profiles, judged from a certificate's own inputs (`tls:index/selfSignedCert` and
 * `tls:index/locallySignedCert`). `allowedUses` takes the provider's snake_case values; a CA is a
 * certificate with `isCaCertificate: true`, every other one is a leaf.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { configWith, message } from "../lib/define";
import { CERTIFICATE_TYPES } from "../lib/types";
import { asList, isUnknown, knownNumber, knownStrings, type Props, plain } from "../lib/values";

/** A certificate's inputs, or undefined for any other resource. */
function certificate(args: { type: string; props: unknown }): Props | undefined {
  return CERTIFICATE_TYPES.includes(args.type) ? plain(args.props) : undefined;
}

/** Whether `allowedUses` is known well enough to judge (no unknown list or element). */
function knownUses(props: Props): string[] | undefined {
  const uses = props.allowedUses;
  if (isUnknown(uses) || asList(uses).some(isUnknown)) return undefined;
  return knownStrings(uses);
}

const isCa = (props: Props) => props.isCaCertificate === true;

/** camelCase spellings the SDK's doc comment shows; the provider only accepts snake_case. */
const CAMEL_CASE: Record<string, string> = { certSigning: "cert_signing", crlSigning: "crl_signing" };

export const caKeyUsage: ResourceValidationPolicy = {
  name: "tls-ca-key-usage",
  description:
    "CA certificates list cert_signing and crl_signing in allowedUses (isCaCertificate alone adds neither, and peers refuse a CA without keyCertSign).",
  enforcementLevel: "mandatory",
  remediationSteps: 'Add "cert_signing" and "crl_signing" (snake_case) to the CA certificate\'s allowedUses.',
  validateResource: (args, report) => {
    const props = certificate(args);
    if (!props || !isCa(props)) return;
    const uses = knownUses(props);
    if (!uses) return;
    const missing = ["cert_signing", "crl_signing"].filter((use) => !uses.includes(use));
    if (missing.length === 0) return;
    const camel = uses.filter((use) => use in CAMEL_CASE);
    report(
      message({
        problem: `allowedUses [${uses.join(", ")}] of this CA lacks ${missing.join(" and ")}${
          camel.length > 0 ? ` (${camel.join(", ")} is camelCase; the provider takes snake_case)` : ""
        }`,
        fix: `add ${missing.map((m) => `"${m}"`).join(" and ")} to allowedUses`,
      }),
    );
  },
};

export const leafSinglePurpose: ResourceValidationPolicy = {
  name: "tls-leaf-single-purpose",
  description:
    "A leaf certificate is either a server's (server_auth) or a client's (client_auth), never both: a stolen server key must not also pass as a client.",
  enforcementLevel: "mandatory",
  remediationSteps:
    "Issue separate certificates (and keys) for the server and the client role; list only server_auth or only client_auth.",
  validateResource: (args, report) => {
    const props = certificate(args);
    if (!props || isCa(props)) return;
    const uses = knownUses(props);
    if (!uses) return;
    const any = uses.includes("any_extended");
    if (!any && !(uses.includes("server_auth") && uses.includes("client_auth"))) return;
    report(
      message({
        problem: any
          ? "allowedUses has any_extended, which makes the leaf valid for every purpose, server and client alike"
          : "allowedUses has both server_auth and client_auth",
        fix: "keep one of server_auth or client_auth and issue another certificate for the other role",
      }),
    );
  },
};

export const leafMaxValidity: ResourceValidationPolicy = {
  name: "tls-leaf-max-validity",
  description: "Leaf certificates live no longer than the configured maximum (default 2160 hours, 90 days).",
  enforcementLevel: "mandatory",
  remediationSteps:
    "Lower validityPeriodHours on the leaf (and keep earlyRenewalHours below it); renewal is a plain pulumi up.",
  configSchema: {
    properties: {
      maxHours: {
        type: "integer",
        minimum: 1,
        default: 2160,
        description: "Longest validityPeriodHours a leaf certificate may have.",
      },
    },
  },
  validateResource: (args, report) => {
    const props = certificate(args);
    if (!props || isCa(props)) return;
    const hours = knownNumber(props.validityPeriodHours);
    if (hours === undefined) return;
    const { maxHours } = configWith(args, { maxHours: 2160 });
    if (hours <= maxHours) return;
    report(
      message({
        problem: `validityPeriodHours is ${hours} (${Math.round(hours / 24)} days), above the maximum of ${maxHours}`,
        fix: `set validityPeriodHours to ${maxHours} or less`,
      }),
    );
  },
};

export const leafEarlyRenewal: ResourceValidationPolicy = {
  name: "tls-leaf-early-renewal",
  description:
    "Leaf certificates set earlyRenewalHours, shorter than their validity, so that a pulumi up re-issues them before they expire.",
  enforcementLevel: "advisory",
  remediationSteps:
    "Set earlyRenewalHours to about a third of validityPeriodHours (e.g. 240 for 720) and run pulumi up within that window.",
  validateResource: (args, report) => {
    const props = certificate(args);
    if (!props || isCa(props)) return;
    if (isUnknown(props.earlyRenewalHours) || isUnknown(props.validityPeriodHours)) return;
    const early = knownNumber(props.earlyRenewalHours) ?? 0;
    const validity = knownNumber(props.validityPeriodHours);
    if (early <= 0) {
      report(
        message({
          problem:
            "earlyRenewalHours is not set (0): no pulumi up re-issues the certificate before it expires, so it lapses while in use",
          fix: `set earlyRenewalHours${validity ? ` to about ${Math.max(1, Math.round(validity / 3))}` : ""}`,
        }),
      );
    } else if (validity !== undefined && early >= validity) {
      report(
        message({
          problem: `earlyRenewalHours (${early}) is not shorter than validityPeriodHours (${validity}): every pulumi up replaces the certificate`,
          fix: `set earlyRenewalHours below ${validity}, e.g. ${Math.max(1, Math.round(validity / 3))}`,
        }),
      );
    }
  },
};
