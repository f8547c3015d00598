/**
 * Rules that need more than one certificate's inputs: a certificate's issuer (the certificate its
 * `caCertPem` came from) and its request (the `tls:index/certRequest` its `certRequestPem` came
 * from, which holds the SANs of a locally signed certificate). Found through property
 * dependencies, so they hold at preview as well.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { message } from "../lib/define";
import { describe, StackIndex, type StackResource } from "../lib/stack-graph";
import { CERTIFICATE_TYPES, TLS } from "../lib/types";
import { asList, isUnknown, knownNumber, knownStrings } from "../lib/values";

const isCa = (r: StackResource) => r.props.isCaCertificate === true;

/** The certificates a certificate's `caCertPem` was computed from: its issuer. */
function issuers(index: StackIndex, cert: StackResource): StackResource[] {
  return CERTIFICATE_TYPES.flatMap((type) => index.sources(cert, "caCertPem", type));
}

/** The provider writes a pathLenConstraint only for maxPathLength >= 1 (Go reads 0 as unset). */
function pathLength(r: StackResource): number | "unknown" | undefined {
  if (isUnknown(r.props.maxPathLength)) return "unknown";
  const n = knownNumber(r.props.maxPathLength);
  return n !== undefined && n >= 1 ? n : undefined;
}

/** The nearest CA at or above `cert` that carries a path-length constraint. */
function constrainedBy(
  index: StackIndex,
  cert: StackResource,
  seen = new Set<string>(),
): StackResource | "unknown" | undefined {
  if (seen.has(cert.urn)) return undefined;
  seen.add(cert.urn);
  const own = pathLength(cert);
  if (own === "unknown") return "unknown";
  if (own !== undefined) return cert;
  for (const issuer of issuers(index, cert)) {
    const found = constrainedBy(index, issuer, seen);
    if (found) return found;
  }
  return undefined;
}

export const caPathLength: StackValidationPolicy = {
  name: "tls-ca-path-length",
  description:
    "Every intermediate CA is bounded by a path-length limit, its own or that of a CA above it, so its key cannot sign further CAs without bound.",
  enforcementLevel: "mandatory",
  remediationSteps:
    "Set maxPathLength: 1 on the root that signs the intermediate (the provider cannot write pathlen:0, and reads maxPathLength 0 as no limit).",
  validateStack: (args, report) => {
    const index = new StackIndex(args.resources);
    for (const cert of index.ofType(TLS.locallySignedCert).filter(isCa)) {
      const limit = constrainedBy(index, cert);
      if (limit) continue;
      const above = issuers(index, cert);
      report(
        message({
          problem:
            above.length > 0
              ? `${describe(cert)} is an intermediate CA with no path-length limit: neither it nor the CA that signs it (${above
                  .map(describe)
                  .join(", ")}) sets maxPathLength of 1 or more (0 writes no limit)`
              : `${describe(cert)} is an intermediate CA with no maxPathLength, and the CA that signs it is not declared in this stack`,
          fix:
            above.length > 0
              ? `set maxPathLength: 1 on ${above.map((a) => `"${a.name}"`).join(", ")}`
              : "set maxPathLength: 1 on this intermediate, or declare its issuer in the stack with maxPathLength: 1",
        }),
        cert.urn,
      );
    }
  },
};

type SanList = string[] | undefined;

/** Known SANs, or undefined when a list (or an element) is not known yet. */
function sans(r: StackResource): SanList {
  const lists = [r.props.dnsNames, r.props.ipAddresses, r.props.uris];
  if (lists.some((l) => isUnknown(l) || asList(l).some(isUnknown))) return undefined;
  return lists.flatMap(knownStrings);
}

export const leafSubjectAltNames: StackValidationPolicy = {
  name: "tls-leaf-subject-alt-names",
  description:
    "Every leaf certificate carries subject alternative names (DNS names, IP addresses or URIs): peers that check names look at SANs, not at the common name.",
  enforcementLevel: "advisory",
  remediationSteps:
    "Give the certificate (its tls.CertRequest, for a locally signed one) dnsNames for the names peers use to reach it, and a URI SAN (e.g. spiffe://<domain>/<name>) for its identity.",
  validateStack: (args, report) => {
    const index = new StackIndex(args.resources);
    for (const cert of CERTIFICATE_TYPES.flatMap((t) => index.ofType(t)).filter((c) => !isCa(c))) {
      let holder = cert;
      if (cert.type === TLS.locallySignedCert) {
        const request = index.sources(cert, "certRequestPem", TLS.certRequest)[0];
        // A request made outside this stack: its SANs cannot be seen here.
        if (!request) continue;
        holder = request;
      }
      const names = sans(holder);
      if (!names || names.length > 0) continue;
      report(
        message({
          problem: `${describe(cert)} is a leaf without subject alternative names (${
            holder === cert ? "" : `its request ${describe(holder)} has `
          }no dnsNames, ipAddresses or uris)`,
          fix: `add dnsNames (the names peers reach it by) or uris to ${describe(holder)}`,
        }),
        cert.urn,
      );
    }
  },
};
