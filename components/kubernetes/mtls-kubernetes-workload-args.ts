/**
 * MtlsKubernetesWorkload's args: the user's app and what our sidecars do for it, as MtlsWorkload
 * takes them, minus what a pod has no use for (private networks, subnets, egress, Docker restart
 * policies). Checked in the constructor, every problem at once, one line each naming
 * `mtls:kubernetes:MtlsKubernetesWorkload "<name>"`, the arg and the value.
 */
import type * as pulumi from "@pulumi/pulumi";
import {
  DEFAULT_CLIENT_STATUS_PORT,
  DEFAULT_SERVER_PORT,
  DEFAULT_STATUS_PORT,
  type Role,
  type TlsPolicy,
} from "../../services/src/contract.ts";
import { ArgChecks } from "../arg-checks.ts";
import type { ServiceIdentity } from "../identity.ts";
import { type CheckedServiceArgs, checkArgs, DEFAULT_MEMORY_MB } from "../mtls-service-args.ts";
import { WORKLOAD_PROTOCOLS, type WorkloadProtocol } from "../mtls-workload-args.ts";
import { nameProblem } from "../validation.ts";
import { type HostAlias, IMAGE_PULL_POLICIES, type ImagePullPolicy } from "./mtls-kubernetes-service-args.ts";

export const MTLS_KUBERNETES_WORKLOAD_TYPE = "mtls:kubernetes:MtlsKubernetesWorkload";

/** The environment the component gives the app (its own `appEnv` wins). */
export const KUBERNETES_WORKLOAD_ENV = {
  /** Server: the port the app listens on. */
  appPort: "MTLS_APP_PORT",
  /**
   * Server: the address the app binds, 127.0.0.1: the pod's loopback, which only the pod's own
   * containers reach. An app on the pod's address would be reachable from every pod of the cluster
   * without mTLS (unless a NetworkPolicy the network plugin enforces says otherwise).
   */
  appHost: "MTLS_APP_HOST",
  /** Client: `MTLS_TUNNEL_<CALL NAME>=127.0.0.1:<localPort>`, the name upper-cased, "-" as "_". */
  tunnelPrefix: "MTLS_TUNNEL_",
} as const;

export const APP_LOOPBACK = "127.0.0.1";

/** The status port of a client workload's `index`-th tunnel sidecar (one pod: one port each). */
export function tunnelStatusPort(index: number): number {
  return DEFAULT_CLIENT_STATUS_PORT + index;
}

/** One server a client workload calls, through a tunnel sidecar of its own. */
export interface KubernetesWorkloadCall {
  /** A DNS label naming the call, at most 56 characters: the tunnel's container is `tunnel-<name>`. Required. */
  name: string;
  /** The server's mTLS URL, `https://<its Service>:<port>`. Required. */
  serverUrl: string;
  /**
   * The port the app calls the tunnel on, on the pod's loopback (127.0.0.1:<localPort>), 1 to
   * 65535, unique in the pod and not a tunnel's status port (9091 and up, one per call). Required.
   */
  localPort: number;
}

export interface MtlsKubernetesWorkloadArgs {
  /**
   * "server": a sidecar accepts mTLS callers and forwards to the app; "client": one tunnel sidecar
   * per call. Required; a plain value. Changing it rolls the pod with the other role's sidecars.
   */
  role: Role;
  /** The sidecars' image (`LocalClusterImage.imageRef`, or a registry's). Required. Changing it rolls the pod. */
  image: pulumi.Input<string>;
  /** The sidecars' image pull policy. Default "IfNotPresent". Changing it rolls the pod. */
  imagePullPolicy?: ImagePullPolicy;
  /**
   * The workload's identity, delivered to the sidecars as MtlsKubernetesService delivers it.
   * Required. Changing it (a re-issued certificate) is a new Secret and a rollout of the pod.
   */
  identity: ServiceIdentity;
  /** The namespace (`ServiceNamespace`'s name). Required. Changing it replaces every object. */
  namespace: pulumi.Input<string>;
  /** The user's image: the app. Required. Changing it rolls the pod. */
  appImage: pulumi.Input<string>;
  /** The app's image pull policy. Default "IfNotPresent". Changing it rolls the pod. */
  appImagePullPolicy?: ImagePullPolicy;
  /** The app's command. Default: its image's. Changing it rolls the pod. */
  appCommand?: pulumi.Input<pulumi.Input<string>[]>;
  /** Further environment of the app; a key here wins over the component's own. Default none. Changing it rolls the pod. */
  appEnv?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /**
   * The app's user as numeric `uid:gid` (or `uid`). Default "10001:10001", the services' own; ""
   * keeps the image's own user, which must be numeric and not root (the namespace is restricted).
   * A plain value. Changing it rolls the pod.
   */
  appUser?: string;
  /** Read-only root filesystem for the app. Default true. Changing it rolls the pod. */
  appReadOnly?: pulumi.Input<boolean>;
  /** The app's memory limit in MiB, at least 6. Default 256. Changing it rolls the pod. */
  appMemoryMb?: pulumi.Input<number>;
  /**
   * Server only: the app's plain port on the pod's loopback; not the sidecar's (`port`, 9090).
   * Required for a server; a plain value. Changing it rolls the pod.
   */
  appPort?: number;
  /**
   * Server only: "http" (reverse proxy, adds x-forwarded-client-cert) or "tcp". Default "http".
   * Changing it rolls the pod.
   */
  protocol?: WorkloadProtocol;
  /** Server only: the sidecar's mTLS port. Default 8443. Changing it rolls the pod and updates the Service. */
  port?: number;
  /**
   * Server only: the Service's name (among the certificate's DNS names). Default: the component's
   * name. A plain value. Changing it replaces the Service.
   */
  serviceName?: string;
  /**
   * Server only: client names let in. Default: every client of the CA. In the policy file.
   * Changing it is a new ConfigMap and a rollout of the pod.
   */
  allowedClients?: pulumi.Input<pulumi.Input<string>[]>;
  /** Server only: "modern" or "intermediate". Default "modern". In the policy file. Changing it rolls the pod. */
  tlsPolicy?: pulumi.Input<TlsPolicy>;
  /** Server only: serials of client certificates refused. Default none. In the policy file. Changing it rolls the pod. */
  revokedSerials?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Client only: the servers the app calls, one tunnel sidecar each; at least one. Required for a
   * client. Changing them rolls the pod with the new tunnels.
   */
  calls?: KubernetesWorkloadCall[];
  /** Names the pod resolves through /etc/hosts (the called servers' Service IPs). Default none. Changing them rolls the pod. */
  hostAliases?: pulumi.Input<pulumi.Input<HostAlias>[]>;
  /** Memory limit of each sidecar in MiB, at least 6. Default 256. Changing it rolls the pod. */
  memoryMb?: pulumi.Input<number>;
}

export interface CheckedKubernetesWorkloadArgs {
  /** The sidecars' checked service args: their environment, the server's policy file, memory. */
  sidecar: CheckedServiceArgs;
  appMemoryMb: pulumi.Input<number>;
  protocol: WorkloadProtocol;
  port: number;
  calls: KubernetesWorkloadCall[];
  serviceName: string;
  imagePullPolicy: ImagePullPolicy;
  appImagePullPolicy: ImagePullPolicy;
  appUser: string;
}

const quote = (value: unknown) => JSON.stringify(value);
const isPort = (value: unknown) =>
  Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 65535;
const MAX_CALL_NAME = 63 - "tunnel-".length;

export function checkKubernetesWorkloadArgs(
  name: string,
  args: MtlsKubernetesWorkloadArgs,
): CheckedKubernetesWorkloadArgs {
  const checks = new ArgChecks(MTLS_KUBERNETES_WORKLOAD_TYPE, name);
  checks.add("name", nameProblem(name));
  const carried = args as unknown as Record<string, unknown>;
  for (const key of [
    "networkName",
    "subnet",
    "appEgress",
    "restart",
    "publish",
    "aliases",
    "deliveryImage",
  ]) {
    if (carried[key] !== undefined) {
      checks.add(
        key,
        "is an MtlsWorkload (Docker) arg; a pod has no use for it, MtlsKubernetesWorkload has no such arg",
      );
    }
  }
  for (const key of ["appImage", "namespace"] as const) {
    checks.check(key, args[key] ?? "", (value) =>
      typeof value === "string" && value.trim() !== ""
        ? undefined
        : `${quote(value)} is empty; it is required`,
    );
  }
  const pullPolicy = (key: string, value: ImagePullPolicy | undefined): ImagePullPolicy => {
    const policy = value ?? "IfNotPresent";
    if (!(IMAGE_PULL_POLICIES as readonly string[]).includes(policy)) {
      checks.add(key, `${quote(policy)} is not one of ${IMAGE_PULL_POLICIES.join(", ")}`);
    }
    return policy;
  };
  const imagePullPolicy = pullPolicy("imagePullPolicy", args.imagePullPolicy);
  const appImagePullPolicy = pullPolicy("appImagePullPolicy", args.appImagePullPolicy);

  const serverOnly = {
    appPort: args.appPort,
    protocol: args.protocol,
    port: args.port,
    serviceName: args.serviceName,
    allowedClients: args.allowedClients,
    tlsPolicy: args.tlsPolicy,
    revokedSerials: args.revokedSerials,
  };
  const wrongRole = args.role === "server" ? { calls: args.calls } : serverOnly;
  for (const [key, value] of Object.entries(wrongRole)) {
    if (value !== undefined)
      checks.add(key, `is for a ${args.role === "server" ? "client" : "server"}; this is a ${args.role}`);
  }

  const protocol = args.protocol ?? "http";
  if (!(WORKLOAD_PROTOCOLS as readonly string[]).includes(protocol)) {
    checks.add("protocol", `${quote(protocol)} is not one of ${WORKLOAD_PROTOCOLS.join(", ")}`);
  }
  const port = args.port ?? DEFAULT_SERVER_PORT;
  if (!isPort(port)) checks.add("port", `${quote(port)} is not a port (a whole number from 1 to 65535)`);
  if (args.role === "server") {
    if (args.appPort === undefined)
      checks.add("appPort", "is missing; a server workload needs the app's port");
    else if (!isPort(args.appPort))
      checks.add("appPort", `${quote(args.appPort)} is not a port (a whole number from 1 to 65535)`);
    else if (args.appPort === port || args.appPort === DEFAULT_STATUS_PORT) {
      checks.add(
        "appPort",
        `${args.appPort} is taken in the pod by the sidecar (mTLS ${port}, status ${DEFAULT_STATUS_PORT}); the app and its sidecar share the pod's ports, give another`,
      );
    }
  }
  const serviceName = args.serviceName ?? name;
  if (args.serviceName !== undefined) checks.add("serviceName", nameProblem(args.serviceName));

  const calls = args.calls ?? [];
  if (args.role === "client") {
    if (calls.length === 0) checks.add("calls", "is empty; a client workload calls at least one server");
    const statusPorts = calls.map((_, index) => tunnelStatusPort(index));
    const names = new Set<string>();
    const localPorts = new Set<number>();
    calls.forEach((call, index) => {
      const where = `calls[${index}]`;
      const problem = nameProblem(call.name);
      if (problem) checks.add(`${where}.name`, problem);
      else if (call.name.length > MAX_CALL_NAME) {
        checks.add(
          `${where}.name`,
          `${quote(call.name)} has more than ${MAX_CALL_NAME} characters: its container, tunnel-<name>, must stay one DNS label`,
        );
      } else if (names.has(call.name))
        checks.add(`${where}.name`, `${quote(call.name)} is listed more than once`);
      names.add(call.name);
      if (!URL.canParse(call.serverUrl) || new URL(call.serverUrl).protocol !== "https:") {
        checks.add(`${where}.serverUrl`, `${quote(call.serverUrl)} is not an https:// URL`);
      }
      if (!isPort(call.localPort)) {
        checks.add(
          `${where}.localPort`,
          `${quote(call.localPort)} is not a port (a whole number from 1 to 65535)`,
        );
      } else if (statusPorts.includes(call.localPort)) {
        checks.add(
          `${where}.localPort`,
          `${call.localPort} is a tunnel's status port in this pod (${statusPorts.join(", ")}); give another`,
        );
      } else if (localPorts.has(call.localPort)) {
        checks.add(
          `${where}.localPort`,
          `${call.localPort} is another call's port; the tunnels share the pod's loopback`,
        );
      }
      localPorts.add(call.localPort);
    });
  }

  const appUser = args.appUser ?? "10001:10001";
  if (appUser !== "" && !/^\d+(:\d+)?$/.test(appUser)) {
    checks.add(
      "appUser",
      `${quote(appUser)} is not a numeric uid:gid (Kubernetes runs containers as numeric ids), or "" for the image's own`,
    );
  } else if (/^0(:|$)/.test(appUser)) {
    checks.add(
      "appUser",
      `${quote(appUser)} is root; the namespace enforces the restricted Pod Security Standard (non-root)`,
    );
  }
  const appMemoryMb = checks.check("appMemoryMb", args.appMemoryMb ?? DEFAULT_MEMORY_MB, (value) =>
    Number.isInteger(value) && value >= 6
      ? undefined
      : `${quote(value)} is not a whole number of MiB of at least 6`,
  );
  // The sidecars' own args, as MtlsService checks them (image, role, identity, server settings,
  // memory); it reports every problem recorded so far with its own.
  const server = args.role === "server";
  const sidecar = checkArgs(
    name,
    {
      image: args.image,
      role: args.role,
      identity: args.identity,
      networkName: "pod-network",
      ...(server
        ? {
            // Checked above; only a valid one, so a bad one is reported once.
            ...(isPort(port) ? { port } : {}),
            allowedClients: args.allowedClients,
            tlsPolicy: args.tlsPolicy,
            revokedSerials: args.revokedSerials,
          }
        : {}),
      memoryMb: args.memoryMb,
    },
    checks,
  );
  return {
    protocol,
    port,
    calls,
    serviceName,
    imagePullPolicy,
    appImagePullPolicy,
    appUser,
    appMemoryMb,
    sidecar,
  };
}

/** The app's environment name for a call's tunnel. */
export function tunnelEnvName(callName: string): string {
  return `${KUBERNETES_WORKLOAD_ENV.tunnelPrefix}${callName.toUpperCase().replaceAll("-", "_")}`;
}
