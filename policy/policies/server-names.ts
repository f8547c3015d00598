/**
 * The stack policy that ties names together: a server's certificate names (its DNS SANs) must
 * include the network alias it is reached by, and each client's server name must be among them,
 * or every handshake fails hostname verification.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { configWith, message } from "../lib/define";
import { describe, StackIndex, type StackResource } from "../lib/stack-graph";
import { TLS } from "../lib/types";
import { asList, isUnknown, knownStrings } from "../lib/values";
import { DEFAULT_APP_VARIABLES, UNKNOWN, type Workload, workloadsOf } from "../lib/workloads";

/** The DNS SANs of a leaf (from its own inputs, or its request's), or undefined if not known yet. */
function dnsNames(index: StackIndex, cert: StackResource): string[] | undefined {
  const holder =
    cert.type === TLS.locallySignedCert ? index.sources(cert, "certRequestPem", TLS.certRequest)[0] : cert;
  if (!holder) return undefined;
  const names = holder.props.dnsNames;
  if (isUnknown(names) || asList(names).some(isUnknown)) return undefined;
  return knownStrings(names);
}

const isServerCert = (cert: StackResource) => {
  const uses = cert.props.allowedUses;
  return knownStrings(uses).includes("server_auth");
};

function serverHost(w: Workload): { host: string; checked: string } | undefined {
  const url = w.env.MTLS_SERVER_URL;
  if (!url) return undefined;
  try {
    const host = new URL(url).hostname;
    return { host, checked: w.env.MTLS_SERVER_NAME || host };
  } catch {
    return undefined;
  }
}

export const serverNameMatchesAlias: StackValidationPolicy = {
  name: "server-name-matches-alias",
  description:
    "Every server's certificate names (DNS SANs) include a network alias it is reached by, and every client's server name is among them.",
  enforcementLevel: "advisory",
  remediationSteps:
    "Use one value for the server's network alias and its certificate's DNS name (as MtlsService's aliases and MtlsPki.issueServer do), and point clients' MTLS_SERVER_URL at that name.",
  configSchema: {
    properties: {
      appVariables: { type: "array", items: { type: "string" }, default: DEFAULT_APP_VARIABLES },
    },
  },
  validateStack: (args, report) => {
    const { appVariables } = configWith(args, { appVariables: DEFAULT_APP_VARIABLES });
    const index = new StackIndex(args.resources);
    const workloads = workloadsOf(index, { appVariables });
    const servers = workloads
      .map((w) => ({ w, cert: w.certificates.find(isServerCert) }))
      .filter((s): s is { w: Workload; cert: StackResource } => s.cert !== undefined);

    for (const { w, cert } of servers) {
      const sans = dnsNames(index, cert);
      // No DNS SAN at all is tls-leaf-subject-alt-names' finding; the clients' check below still applies.
      if (!sans || sans.length === 0 || w.names === UNKNOWN || w.names.length === 0) continue;
      const names = w.names;
      if (sans.some((san) => names.includes(san))) continue;
      report(
        message({
          problem: `${describe(w.resource)} is reached by [${names.join(", ")}] but its certificate ${describe(cert)} names [${sans.join(", ")}]`,
          fix: "give the certificate the alias as a DNS name (or the container the certificate's name as an alias)",
        }),
        w.resource.urn,
      );
    }

    for (const client of workloads) {
      const target = serverHost(client);
      if (!target) continue;
      const server = servers.find((s) => s.w.names !== UNKNOWN && s.w.names.includes(target.host));
      // A server outside this stack: its certificate cannot be seen here.
      if (!server) continue;
      const sans = dnsNames(index, server.cert);
      if (!sans || sans.includes(target.checked)) continue;
      report(
        message({
          problem: `${describe(client.resource)} calls ${client.env.MTLS_SERVER_URL} and checks the name ${target.checked}, which the certificate of ${describe(server.w.resource)} does not carry ([${sans.join(", ")}])`,
          fix: `add ${target.checked} to the server certificate's DNS names, or call the server by one of them`,
        }),
        client.resource.urn,
      );
    }
  },
};
