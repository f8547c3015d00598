/**
 * MtlsKubernetesService's args: the same service args as MtlsService (role, image, identity, server
 * and client settings, memory), with what differs on Kubernetes: the namespace, a replica count,
 * the Service's name, how the image is pulled, and no host publishing. Checked in the constructor,
 * every problem at once, each one line naming `mtls:kubernetes:MtlsKubernetesService "<name>"`, the
 * arg and the value (arg-checks.ts).
 */
import type * as pulumi from "@pulumi/pulumi";
import type { Role, TlsPolicy } from "../../services/src/contract.ts";
import { ArgChecks } from "../arg-checks.ts";
import type { ServiceIdentity } from "../identity.ts";
import { type CheckedServiceArgs, checkArgs } from "../mtls-service-args.ts";
import { nameProblem } from "../validation.ts";

export const MTLS_KUBERNETES_SERVICE_TYPE = "mtls:kubernetes:MtlsKubernetesService";

export const IMAGE_PULL_POLICIES = ["Never", "IfNotPresent", "Always"] as const;
export type ImagePullPolicy = (typeof IMAGE_PULL_POLICIES)[number];

/** An entry of the pod's /etc/hosts (`hostAliases`): a name the pod resolves without cluster DNS. */
export interface HostAlias {
  ip: pulumi.Input<string>;
  hostnames: pulumi.Input<pulumi.Input<string>[]>;
}

export interface MtlsKubernetesServiceArgs {
  /**
   * Image the pods run: a reference the node's container runtime has or pulls (with
   * `LocalClusterImage`, its `imageRef`). Required. Changing it rolls the pods.
   */
  image: pulumi.Input<string>;
  /**
   * "Never" for an image loaded into the node's runtime (no registry), "IfNotPresent" or "Always"
   * for a registry's. Default "IfNotPresent". Changing it rolls the pods.
   */
  imagePullPolicy?: ImagePullPolicy;
  /** "server" or "client": the image's first argument. Required; a plain value. Changing it rolls the pods. */
  role: Role;
  /**
   * The identity to deliver: an `Identity` from `MtlsPki`, or any object with `chainPem`,
   * `privateKeyPem` (kept secret) and `caBundlePem`. Required. Delivered as a `kubernetes.io/tls`
   * Secret (tls.crt, tls.key, ca.crt), auto-named: a re-issued certificate is a new Secret (the
   * provider replaces a Secret whose data changes, create-first), the pods roll onto it one at a
   * time (a new pod ready before an old one stops), then the old Secret is deleted.
   */
  identity: ServiceIdentity;
  /** The namespace of every object (`ServiceNamespace`'s name). Required. Changing it replaces them all. */
  namespace: pulumi.Input<string>;
  /**
   * Server only: the Service's name, which clients in the namespace resolve; it should be among
   * the certificate's DNS names. Default: the component's name. Changing it replaces the Service.
   */
  serviceName?: string;
  /** Pods, at least 1. Default 1. Changing it scales in place (no rollout of the others). */
  replicas?: pulumi.Input<number>;
  /** Server only: the mTLS port, 1 to 65535. Default 8443. Changing it rolls the pods and updates the Service. */
  port?: pulumi.Input<number>;
  /**
   * Server only: client names (certificate CNs) let in. Default: every client of the CA bundle.
   * Delivered in the server's policy file, a ConfigMap projected beside the identity
   * (/etc/mtls/policy.json). Changing it is a new ConfigMap and a rollout, like a new certificate.
   */
  allowedClients?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Server only: "modern" or "intermediate". Default "modern". In the policy file, like
   * `allowedClients`. Changing it is a new ConfigMap and a rollout.
   */
  tlsPolicy?: pulumi.Input<TlsPolicy>;
  /**
   * Server only: hex serials of client certificates refused. Default none. In the policy file.
   * Changing it is a new ConfigMap and a rollout.
   */
  revokedSerials?: pulumi.Input<pulumi.Input<string>[]>;
  /** Client only: the server's URL, `https://<server's Service>:<port>`. Default the service's own. Changing it rolls the pods. */
  serverUrl?: pulumi.Input<string>;
  /**
   * Names the pods resolve through their /etc/hosts: a client's server by its Service's cluster IP
   * (`MtlsKubernetesService.clusterIp`), so no cluster DNS is needed. Default none. Changing it
   * rolls the pods.
   */
  hostAliases?: pulumi.Input<pulumi.Input<HostAlias>[]>;
  /** Arguments after the role. Default none. Changing them rolls the pods. */
  args?: pulumi.Input<pulumi.Input<string>[]>;
  /** Further environment (names from the services' contract, `ENV`). Default none. Changing it rolls the pods. */
  env?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Memory limit per pod in MiB, at least 6. Default 256. Changing it rolls the pods. */
  memoryMb?: pulumi.Input<number>;
  /**
   * Make `pulumi up` wait until the Deployment's rollout completes (every pod ready: /readyz). With
   * false the Deployment carries `pulumi.com/skipAwait`: a client whose calls are refused (it
   * is not ready then) does not fail `up`. Default true. Changing it changes nothing in the pods.
   */
  waitUntilReady?: boolean;
}

export interface CheckedKubernetesArgs extends CheckedServiceArgs {
  replicas: pulumi.Input<number>;
  imagePullPolicy: ImagePullPolicy;
  serviceName: string;
}

/** Checks the args, MtlsService's shared ones included, and throws every problem at once. */
export function checkKubernetesArgs(name: string, args: MtlsKubernetesServiceArgs): CheckedKubernetesArgs {
  const checks = new ArgChecks(MTLS_KUBERNETES_SERVICE_TYPE, name);
  // Object names derive from it (`<name>-<suffix>`): Kubernetes wants lowercase DNS labels.
  checks.add("name", nameProblem(name));
  const carried = args as unknown as Record<string, unknown>;
  if (carried.publish !== undefined) {
    checks.add(
      "publish",
      "is not available on Kubernetes: the server is a Service inside the cluster; call it from a pod, or `kubectl port-forward` it",
    );
  }
  for (const key of ["networkName", "networkId", "containerName", "restart", "waitUntilHealthy", "aliases"]) {
    if (carried[key] !== undefined)
      checks.add(key, "is an MtlsService or MtlsSwarmService arg; MtlsKubernetesService has no such arg");
  }
  checks.check("namespace", args.namespace, (value) =>
    typeof value === "string" && value.trim() !== ""
      ? undefined
      : `${JSON.stringify(value)} is empty; it is required`,
  );
  const replicas = checks.check("replicas", args.replicas ?? 1, (value) =>
    Number.isInteger(value) && value >= 1
      ? undefined
      : `${JSON.stringify(value)} is not a whole number of at least 1`,
  );
  const imagePullPolicy = args.imagePullPolicy ?? "IfNotPresent";
  if (!(IMAGE_PULL_POLICIES as readonly string[]).includes(imagePullPolicy)) {
    checks.add(
      "imagePullPolicy",
      `${JSON.stringify(imagePullPolicy)} is not one of ${IMAGE_PULL_POLICIES.join(", ")}`,
    );
  }
  if (args.serviceName !== undefined && args.role !== "server") {
    checks.add("serviceName", `is for a server; this is a ${args.role}`);
  }
  const serviceName = args.serviceName ?? name;
  if (args.serviceName !== undefined) checks.add("serviceName", nameProblem(args.serviceName));
  const shared = checkArgs(
    name,
    {
      image: args.image,
      role: args.role,
      identity: args.identity,
      // Not a Docker network: MtlsService's own network check has nothing to add.
      networkName: "pod-network",
      port: args.port,
      allowedClients: args.allowedClients,
      tlsPolicy: args.tlsPolicy,
      revokedSerials: args.revokedSerials,
      serverUrl: args.serverUrl,
      args: args.args,
      env: args.env,
      memoryMb: args.memoryMb,
    },
    checks,
  );
  return { ...shared, replicas, imagePullPolicy, serviceName };
}
