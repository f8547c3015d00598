/**
 * The pieces every pod of the Kubernetes components is made of, in one place so that a service and
 * a workload's sidecars are hardened alike:
 *
 * - the pod and container `securityContext` of the restricted Pod Security Standard (the namespace
 *   enforces it: the API server refuses a pod that breaks it): non-root 10001:10001, no privilege
 *   escalation, every capability dropped, seccomp RuntimeDefault, read-only root filesystem;
 * - the identity volume: a projected volume at /etc/mtls holding the `kubernetes.io/tls` Secret
 *   (tls.crt, tls.key, ca.crt) and, for a server, its policy ConfigMap (policy.json), defaultMode
 *   0400, group-owned by fsGroup 10001 (the kubelet adds the group's read bit: 0440 on disk);
 * - probes on the status listener, resource limits, and a preStop pause that lets the Service stop
 *   routing to a pod before it stops accepting (kube-proxy removes a terminating pod's endpoint
 *   asynchronously; the services stop listening on SIGTERM).
 *
 * Plain object literals, as @pulumi/kubernetes' input types take them.
 */
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ENV, IDENTITY_DIR, SERVICE_GID, SERVICE_UID, STATUS_ROUTES } from "../../services/src/contract.ts";

type Input<T> = pulumi.Input<T>;
type Container = k8s.types.input.core.v1.Container;
type PodSecurityContext = k8s.types.input.core.v1.PodSecurityContext;
type Probe = k8s.types.input.core.v1.Probe;
type Volume = k8s.types.input.core.v1.Volume;

/** The labels Kubernetes recommends (app.kubernetes.io/*), the selector's among them. */
export const PART_OF = "mtls-pki";
export function selectorLabels(name: string): Record<string, string> {
  return { "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": PART_OF };
}
export function objectLabels(name: string, component: string): Record<string, string> {
  return {
    ...selectorLabels(name),
    "app.kubernetes.io/component": component,
    "app.kubernetes.io/managed-by": "pulumi",
  };
}

/** The volume's name inside the pod spec. */
export const IDENTITY_VOLUME = "identity";
/** Owner-read only; the kubelet adds the fsGroup's read bit (pkg/volume/volume_linux.go). */
export const IDENTITY_FILE_MODE = 0o400;

/** Pod-level context of the restricted Pod Security Standard, as the services' own user. */
export const POD_SECURITY_CONTEXT: PodSecurityContext = {
  runAsNonRoot: true,
  runAsUser: SERVICE_UID,
  runAsGroup: SERVICE_GID,
  fsGroup: SERVICE_GID,
  seccompProfile: { type: "RuntimeDefault" },
};

/** Container-level context of the restricted Pod Security Standard. */
export function containerSecurityContext(options: { readOnlyRoot?: Input<boolean>; user?: string } = {}) {
  const ids = options.user === undefined ? {} : numericUser(options.user);
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: options.readOnlyRoot ?? true,
    runAsNonRoot: true,
    capabilities: { drop: ["ALL"] },
    ...ids,
  };
}

/** "uid" or "uid:gid" as runAsUser/runAsGroup; "" = the image's own (numeric, non-root) user. */
export function numericUser(user: string): { runAsUser?: number; runAsGroup?: number } {
  if (user === "") return {};
  const [uid, gid] = user.split(":");
  return { runAsUser: Number(uid), ...(gid === undefined ? {} : { runAsGroup: Number(gid) }) };
}

/** The projected identity volume: the TLS Secret and, for a server, the policy ConfigMap. */
export function identityVolume(secretName: Input<string>, policyConfigMapName?: Input<string>): Volume {
  return {
    name: IDENTITY_VOLUME,
    projected: {
      defaultMode: IDENTITY_FILE_MODE,
      sources: [
        { secret: { name: secretName } },
        ...(policyConfigMapName === undefined ? [] : [{ configMap: { name: policyConfigMapName } }]),
      ],
    },
  };
}

export const IDENTITY_MOUNT = { name: IDENTITY_VOLUME, mountPath: IDENTITY_DIR, readOnly: true };

/** How long a stopping pod keeps accepting, so the Service has stopped routing to it first. */
export const PRE_STOP_PAUSE_SECONDS = 5;
export const PRE_STOP = { preStop: { sleep: { seconds: PRE_STOP_PAUSE_SECONDS } } };

/** /readyz on the status port, by its port name: ready = the service's own readiness. */
export function readinessProbe(portName: string): Probe {
  return {
    httpGet: { path: STATUS_ROUTES.readyz, port: portName },
    periodSeconds: 2,
    timeoutSeconds: 2,
    failureThreshold: 2,
  };
}

/**
 * A native sidecar is "started" once this succeeds, and only then does the kubelet start the next
 * container: the app finds its sidecar serving (KEP-753). Up to a minute for the identity to load.
 */
export function startupProbe(portName: string): Probe {
  return {
    httpGet: { path: STATUS_ROUTES.readyz, port: portName },
    periodSeconds: 1,
    timeoutSeconds: 2,
    failureThreshold: 60,
  };
}

/** Limits (memory as given, at most one core) and the small requests the scheduler reserves. */
export function resources(memoryMb: Input<number>) {
  const mb = pulumi.output(memoryMb);
  return {
    limits: { memory: mb.apply((m) => `${m}Mi`), cpu: "1" },
    requests: { memory: mb.apply((m) => `${Math.min(m, 64)}Mi`), cpu: "25m" },
  };
}

/** The status listener on every interface of the pod: the kubelet probes it on the pod's address. */
export function statusListenEnv(port: number): { name: string; value: string } {
  return { name: ENV.statusListen, value: `0.0.0.0:${port}` };
}

/** A record as a container's `env` list, sorted (a stable order: no spurious diff). */
export function envList(entries: Record<string, string>): { name: string; value: string }[] {
  return Object.entries(entries)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => ({ name, value }));
}

/** The pod spec's fields that are the same for every pod of the stack. */
export const POD_DEFAULTS = {
  securityContext: POD_SECURITY_CONTEXT,
  // No API token in the pod: the services never call the API server.
  automountServiceAccountToken: false,
  // No environment variable per Service of the namespace: the services read only their own.
  enableServiceLinks: false,
  // Above the pre-stop pause plus the services' own drain (MTLS_SHUTDOWN_TIMEOUT_MS, 10 s).
  terminationGracePeriodSeconds: 30,
} as const;

export type { Container };
