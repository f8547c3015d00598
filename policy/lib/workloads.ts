/**
 * The workloads of a stack that hold an mTLS identity, read into one shape whatever runs them, so
 * that the hardening and naming rules are written once. Each runtime has a reader: Docker
 * containers and Docker Swarm services here; another orchestrator (Kubernetes pods) adds its own
 * reader to `RUNTIMES` and nothing else.
 *
 * A workload holds an identity when it mounts one (a volume that a delivery container uploads a
 * private key into, an upload of its own, a swarm secret that carries a key) or takes the mTLS
 * services' settings (`MTLS_` environment variables), except the variables the sidecar components
 * give to an app that has no identity of its own (`appVariables`, configurable).
 */
import { keyUploadReason, secretCarriesKey, uploadsOf } from "./key-carriers";
import {
  dependenciesOfType,
  describe,
  keyDependencies,
  type StackIndex,
  type StackResource,
} from "./stack-graph";
import { CERTIFICATE_TYPES, DOCKER } from "./types";
import { asList, asObject, isUnknown, knownNumber, knownStrings, type Props } from "./values";

/** A value the workload's spec leaves open at preview: the rule waits for `pulumi up`. */
export const UNKNOWN = Symbol("unknown");
type Maybe<T> = T | typeof UNKNOWN;

export interface Workload {
  resource: StackResource;
  /** "docker container" or "swarm service": how messages name the runtime. */
  runtime: string;
  /** Why the workload counts as holding an identity. */
  identity: string;
  /** The user it runs as; undefined = the image's user (root unless the image says otherwise). */
  user: Maybe<string | undefined>;
  readOnlyRoot: Maybe<boolean>;
  capabilityDrops: Maybe<string[]>;
  capabilityAdds: Maybe<string[]>;
  privileged: Maybe<boolean>;
  /** "unsupported": the runtime cannot set it (a swarm service spec, through the docker provider). */
  noNewPrivileges: Maybe<boolean | "unsupported">;
  /** Memory limit in bytes; 0 or undefined = none. */
  memoryBytes: Maybe<number | undefined>;
  hostNetwork: Maybe<boolean>;
  /** Host addresses its ports are published on ("0.0.0.0" for all interfaces). */
  publishedOn: Maybe<string[]>;
  /** DNS names other workloads reach it by (network aliases and its own name). */
  names: Maybe<string[]>;
  /** Its environment, as known (server URL, server name). */
  env: Record<string, string>;
  /** The leaf certificates delivered to it. */
  certificates: StackResource[];
}

export interface WorkloadOptions {
  /** `MTLS_` variables that do not make a workload hold an identity; "*" ends a prefix. */
  appVariables: string[];
}

export const DEFAULT_APP_VARIABLES = ["MTLS_APP_PORT", "MTLS_TUNNEL_*"];

function matches(name: string, pattern: string): boolean {
  return pattern.endsWith("*") ? name.startsWith(pattern.slice(0, -1)) : name === pattern;
}

function settingNames(env: Record<string, string>, options: WorkloadOptions): string[] {
  return Object.keys(env).filter(
    (name) => name.startsWith("MTLS_") && !options.appVariables.some((p) => matches(name, p)),
  );
}

const maybe = <T>(value: unknown, read: (v: unknown) => T): Maybe<T> =>
  isUnknown(value) ? UNKNOWN : read(value);
const stringList = (value: unknown): Maybe<string[]> =>
  isUnknown(value) || asList(value).some(isUnknown) ? UNKNOWN : knownStrings(value);

/** Leaf certificates among the resources a property was computed from. */
function leavesFrom(index: StackIndex, r: StackResource, property: string): StackResource[] {
  return CERTIFICATE_TYPES.flatMap((type) => index.sources(r, property, type)).filter(
    (c) => c.props.isCaCertificate !== true,
  );
}

// ------------------------------------------------------------------------------------------------
// Docker containers

function envList(value: unknown): Record<string, string> {
  const env: Record<string, string> = {};
  for (const item of knownStrings(value)) {
    const eq = item.indexOf("=");
    if (eq > 0) env[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return env;
}

/** Volume names a container mounts (`mounts` of type volume, legacy `volumes`). */
function volumeSources(c: StackResource): string[] {
  const fromMounts = asList(c.props.mounts)
    .map(asObject)
    .filter((m) => m && (m.type === undefined || m.type === "volume"))
    .map((m) => m?.source);
  const fromVolumes = asList(c.props.volumes)
    .map(asObject)
    .map((v) => v?.volumeName);
  return [...fromMounts, ...fromVolumes].filter((s): s is string => typeof s === "string" && !isUnknown(s));
}

function volumeUrns(c: StackResource): string[] {
  return ["mounts", "volumes"].flatMap((p) => dependenciesOfType(c, p, DOCKER.volume).map((v) => v.urn));
}

/** Whether a container delivers a private key in its uploads. */
function deliversKey(c: StackResource): boolean {
  return (
    keyDependencies(c, "uploads").length > 0 || uploadsOf(c.props).some((u) => keyUploadReason(c.props, u))
  );
}

function publishedAddresses(props: Props): Maybe<string[]> {
  if (isUnknown(props.ports)) return UNKNOWN;
  const addresses: string[] = [];
  for (const port of asList(props.ports).map(asObject)) {
    if (!port) continue;
    if (isUnknown(port.ip)) return UNKNOWN;
    // The provider publishes on 0.0.0.0 when no ip is given.
    addresses.push(typeof port.ip === "string" && port.ip !== "" ? port.ip : "0.0.0.0");
  }
  return addresses;
}

function containerNames(index: StackIndex, c: StackResource): Maybe<string[]> {
  const networkMode = c.props.networkMode;
  // A container joined to another's namespace (networkMode "container:<id>") is reached by the
  // owner's names; the owner is the container its networkMode was computed from.
  const owner = dependenciesOfType(c, "networkMode", DOCKER.container)[0];
  if (owner) return containerNames(index, index.get(owner));
  if (typeof networkMode === "string" && networkMode.startsWith("container:")) return UNKNOWN;
  const names: string[] = [];
  for (const network of asList(c.props.networksAdvanced).map(asObject)) {
    if (!network) continue;
    const aliases = stringList(network.aliases);
    if (aliases === UNKNOWN) return UNKNOWN;
    names.push(...aliases);
  }
  if (typeof c.props.name === "string" && !isUnknown(c.props.name)) names.push(c.props.name);
  return names;
}

function dockerContainers(index: StackIndex, options: WorkloadOptions): Workload[] {
  const containers = index.ofType(DOCKER.container);
  const deliveries = containers.filter(deliversKey);
  const workloads: Workload[] = [];
  for (const c of containers) {
    const p = c.props;
    // A container created but never started runs no process (a delivery container).
    if (p.start === false) continue;
    const env = envList(p.envs);
    const sources = volumeSources(c);
    const urns = volumeUrns(c);
    const delivery = deliveries.find(
      (d) =>
        d !== c &&
        (volumeSources(d).some((s) => sources.includes(s)) || volumeUrns(d).some((u) => urns.includes(u))),
    );
    const settings = settingNames(env, options);
    const identity = delivery
      ? `it mounts the identity ${describe(delivery)} delivers`
      : deliversKey(c)
        ? "it has a private key among its uploads"
        : settings.length > 0
          ? `it takes the mTLS settings ${settings.join(", ")}`
          : undefined;
    if (!identity) continue;
    const capabilities = asObject(p.capabilities);
    const certificates = [
      ...(delivery ? leavesFrom(index, delivery, "uploads") : []),
      ...leavesFrom(index, c, "uploads"),
    ];
    workloads.push({
      resource: c,
      runtime: "docker container",
      identity,
      user: maybe(p.user, (u) => (typeof u === "string" && u !== "" ? u : undefined)),
      readOnlyRoot: maybe(p.readOnly, (v) => v === true),
      capabilityDrops: isUnknown(p.capabilities) ? UNKNOWN : stringList(capabilities?.drops),
      capabilityAdds: isUnknown(p.capabilities) ? UNKNOWN : stringList(capabilities?.adds),
      privileged: maybe(p.privileged, (v) => v === true),
      noNewPrivileges: isUnknown(p.securityOpts)
        ? UNKNOWN
        : knownStrings(p.securityOpts).some((o) => /^no-new-privileges(?::true|=true)?$/.test(o)),
      // The provider takes memory in MB.
      memoryBytes: maybe(p.memory, (m) => (knownNumber(m) ?? 0) * 1024 * 1024),
      hostNetwork: maybe(p.networkMode, (m) => m === "host"),
      publishedOn: publishedAddresses(p),
      names: containerNames(index, c),
      env,
      certificates,
    });
  }
  return workloads;
}

// ------------------------------------------------------------------------------------------------
// Docker Swarm services

function swarmServices(index: StackIndex, options: WorkloadOptions): Workload[] {
  const keySecrets = index.ofType(DOCKER.secret).filter(secretCarriesKey);
  const workloads: Workload[] = [];
  for (const s of index.ofType(DOCKER.service)) {
    const task = asObject(s.props.taskSpec);
    const spec = asObject(task?.containerSpec);
    const envMap = asObject(spec?.env) ?? {};
    const env = Object.fromEntries(
      Object.entries(envMap).filter(
        (e): e is [string, string] => typeof e[1] === "string" && !isUnknown(e[1]),
      ),
    );
    const secrets = index.sources(s, "taskSpec", DOCKER.secret);
    const keySecret = secrets.find((secret) => keySecrets.includes(secret));
    const settings = settingNames(env, options);
    const identity = keySecret
      ? `it mounts the private key ${describe(keySecret)}`
      : settings.length > 0
        ? `it takes the mTLS settings ${settings.join(", ")}`
        : undefined;
    if (!identity) continue;
    const limits = asObject(asObject(task?.resources)?.limits);
    const networks = asList(task?.networksAdvanceds).map(asObject);
    const aliases = networks.map((n) => stringList(n?.aliases));
    const ports = asList(asObject(s.props.endpointSpec)?.ports);
    workloads.push({
      resource: s,
      runtime: "swarm service",
      identity,
      user: maybe(spec?.user, (u) => (typeof u === "string" && u !== "" ? u : undefined)),
      readOnlyRoot: maybe(spec?.readOnly, (v) => v === true),
      capabilityDrops: stringList(spec?.capDrops),
      capabilityAdds: stringList(spec?.capAdds),
      privileged: false,
      noNewPrivileges: "unsupported",
      memoryBytes: maybe(limits?.memoryBytes, (m) => knownNumber(m)),
      hostNetwork: networks.some((n) => n?.name === "host" || n?.id === "host"),
      // Swarm publishes on every interface of every node (ingress and host mode alike).
      publishedOn: isUnknown(asObject(s.props.endpointSpec)?.ports) ? UNKNOWN : ports.map(() => "0.0.0.0"),
      names: aliases.includes(UNKNOWN)
        ? UNKNOWN
        : [
            ...aliases.flatMap((a) => (a === UNKNOWN ? [] : a)),
            ...(typeof s.props.name === "string" && !isUnknown(s.props.name) ? [s.props.name] : []),
          ],
      env,
      certificates: secrets.flatMap((secret) => leavesFrom(index, secret, "data")),
    });
  }
  return workloads;
}

/** One reader per runtime; a new runtime adds its reader here. */
const RUNTIMES = [dockerContainers, swarmServices];

export function workloadsOf(index: StackIndex, options: WorkloadOptions): Workload[] {
  return RUNTIMES.flatMap((read) => read(index, options));
}
