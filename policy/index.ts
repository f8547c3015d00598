/**
 * The mtls-pki policy pack: guardrails for any Pulumi program that declares a PKI with
 * @pulumi/tls and delivers its identities into @pulumi/docker workloads.
 *
 *   pulumi preview --policy-pack policy                  # from the project using it
 *   pulumi preview --policy-pack policy --policy-pack-config policy-config.json
 *
 * Resource policies run on each resource's inputs as it is registered; stack policies run once
 * on every resource's outputs (at preview: the planned state), with property dependencies, which
 * is how a value is traced back to a private key while it is still unknown.
 */
// First: it wraps @pulumi/policy's deserialization before the pack starts serving.
import "./lib/secrets";
import { PolicyPack } from "@pulumi/policy";
import { caPathLength, leafSubjectAltNames } from "./policies/certificate-chain";
import { caKeyUsage, leafEarlyRenewal, leafMaxValidity, leafSinglePurpose } from "./policies/certificates";
import {
  keyInRuntimeConfig,
  keyInStackOutput,
  keySecretMountPermissions,
  keyUploadPermissions,
} from "./policies/key-delivery";
import { ecdsaCurve, rsaBits } from "./policies/keys";
import { serverNameMatchesAlias } from "./policies/server-names";
import {
  capabilitiesDropped,
  memoryLimit,
  noHostNetwork,
  noNewPrivileges,
  nonRoot,
  publishLoopback,
  readOnlyRoot,
} from "./policies/workload-hardening";

new PolicyPack("mtls-pki", {
  description:
    "Guardrails for a PKI declared with @pulumi/tls and the workloads (@pulumi/docker containers and swarm services) that receive its identities.",
  policies: [
    ecdsaCurve,
    rsaBits,
    caKeyUsage,
    caPathLength,
    leafSinglePurpose,
    leafSubjectAltNames,
    leafMaxValidity,
    leafEarlyRenewal,
    keyInRuntimeConfig,
    keyInStackOutput,
    keyUploadPermissions,
    keySecretMountPermissions,
    nonRoot,
    capabilitiesDropped,
    noNewPrivileges,
    readOnlyRoot,
    memoryLimit,
    noHostNetwork,
    publishLoopback,
    serverNameMatchesAlias,
  ],
});
