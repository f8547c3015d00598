/**
 * Checked docker.Container inputs → the Engine API's container-create body, field by field as the
 * provider's `resourceDockerContainerCreate` fills the Go client's Config / HostConfig (memory and
 * shm sizes are in MB there, durations Go strings, ports "internal/protocol" with host bindings).
 */
import type { Inputs } from "../engine/provider.ts";
import type { Healthcheck, Port } from "./container-check.ts";
import { parseGoDuration } from "./container-check.ts";
import { labelMap } from "./labels.ts";

const MB = 1024 * 1024;

interface Mount {
  type: string;
  target: string;
  source?: string;
  readOnly?: boolean;
  bindOptions?: { propagation?: string };
  volumeOptions?: {
    noCopy?: boolean;
    labels?: { label: string; value: string }[];
    driverName?: string;
    driverOptions?: Record<string, string>;
    subpath?: string;
  };
  tmpfsOptions?: { sizeBytes?: number; mode?: number };
}

interface Volume {
  containerPath?: string;
  volumeName?: string;
  hostPath?: string;
  readOnly?: boolean;
  fromContainer?: string;
}

function mountSpec(mount: Mount): Record<string, unknown> {
  const spec: Record<string, unknown> = {
    Type: mount.type,
    Target: mount.target,
    Source: mount.source ?? "",
    ReadOnly: mount.readOnly ?? false,
  };
  if (mount.type === "bind" && mount.bindOptions)
    spec.BindOptions = { Propagation: mount.bindOptions.propagation };
  if (mount.type === "volume" && mount.volumeOptions) {
    const o = mount.volumeOptions;
    if (o.subpath !== undefined)
      throw new Error("docker emulation: mounts[].volumeOptions.subpath needs API 1.45");
    spec.VolumeOptions = {
      NoCopy: o.noCopy ?? false,
      Labels: Object.fromEntries((o.labels ?? []).map((l) => [l.label, l.value])),
      DriverConfig:
        o.driverName || o.driverOptions
          ? { Name: o.driverName ?? "", Options: o.driverOptions ?? {} }
          : undefined,
    };
  }
  if (mount.type === "tmpfs" && mount.tmpfsOptions) {
    spec.TmpfsOptions = { SizeBytes: mount.tmpfsOptions.sizeBytes, Mode: mount.tmpfsOptions.mode };
  }
  return spec;
}

/** The provider's volumeSetToDockerVolumes: anonymous volumes, binds and volumes-from. */
function legacyVolumes(volumes: Volume[]): {
  Volumes: Record<string, object>;
  Binds: string[];
  VolumesFrom: string[];
} {
  const result = {
    Volumes: {} as Record<string, object>,
    Binds: [] as string[],
    VolumesFrom: [] as string[],
  };
  for (const volume of volumes) {
    if (volume.fromContainer) {
      result.VolumesFrom.push(volume.fromContainer);
      continue;
    }
    if (!volume.containerPath) throw new Error("docker emulation: volumes[].containerPath is required here");
    const source = volume.hostPath ?? volume.volumeName;
    if (source === undefined) {
      result.Volumes[volume.containerPath] = {};
      continue;
    }
    result.Binds.push(`${source}:${volume.containerPath}${volume.readOnly ? ":ro" : ""}`);
  }
  return result;
}

function healthcheckSpec(healthcheck: Healthcheck): Record<string, unknown> {
  const spec: Record<string, unknown> = {
    Test: healthcheck.tests,
    Interval: parseGoDuration(healthcheck.interval ?? "0s"),
    Timeout: parseGoDuration(healthcheck.timeout ?? "0s"),
    StartPeriod: parseGoDuration(healthcheck.startPeriod ?? "0s"),
    Retries: healthcheck.retries ?? 0,
  };
  const startInterval = parseGoDuration(healthcheck.startInterval ?? "0s");
  if (startInterval) spec.StartInterval = startInterval;
  return spec;
}

function portSpec(ports: Port[]): { exposed: Record<string, object>; bindings: Record<string, object[]> } {
  const exposed: Record<string, object> = {};
  const bindings: Record<string, object[]> = {};
  for (const port of ports) {
    const key = `${port.internal}/${port.protocol ?? "tcp"}`;
    exposed[key] = {};
    const binding = { HostIp: port.ip ?? "0.0.0.0", HostPort: port.external ? String(port.external) : "" };
    bindings[key] = [...(bindings[key] ?? []), binding];
  }
  return { exposed, bindings };
}

/** Parses "1.5" CPUs into nano-CPUs, as docker/cli opts.ParseCPUs. */
function nanoCpus(cpus: string): number {
  const value = Number(cpus);
  if (!Number.isFinite(value) || value < 0) throw new Error(`Error setting cpus: invalid value ${cpus}`);
  return Math.round(value * 1e9);
}

export function containerCreateBody(inputs: Inputs, runId: string): Record<string, unknown> {
  const ports = portSpec((inputs.ports ?? []) as Port[]);
  const volumes = legacyVolumes((inputs.volumes ?? []) as Volume[]);
  const capabilities = inputs.capabilities as { adds?: string[]; drops?: string[] } | undefined;
  const logOpts = inputs.logOpts as Record<string, string> | undefined;
  const memorySwap = inputs.memorySwap as number | undefined;
  const hosts = (inputs.hosts ?? []) as { host: string; ip: string }[];
  const ulimits = (inputs.ulimits ?? []) as { name: string; soft: number; hard: number }[];

  const hostConfig: Record<string, unknown> = {
    Privileged: inputs.privileged,
    PublishAllPorts: inputs.publishAllPorts,
    RestartPolicy: { Name: inputs.restart, MaximumRetryCount: inputs.maxRetryCount ?? 0 },
    Mounts: ((inputs.mounts ?? []) as Mount[]).map(mountSpec),
    AutoRemove: inputs.rm,
    ReadonlyRootfs: inputs.readOnly,
    LogConfig: { Type: inputs.logDriver ?? "", Config: logOpts ?? {} },
    Tmpfs: inputs.tmpfs,
    PortBindings: ports.bindings,
    ExtraHosts: hosts.map((h) => `${h.host}:${h.ip}`),
    Binds: volumes.Binds,
    VolumesFrom: volumes.VolumesFrom,
    Ulimits: ulimits.map((u) => ({ Name: u.name, Soft: u.soft, Hard: u.hard })),
    CapAdd: capabilities?.adds,
    CapDrop: capabilities?.drops,
    Dns: inputs.dns,
    DnsOptions: inputs.dnsOpts,
    DnsSearch: inputs.dnsSearches,
    SecurityOpt: inputs.securityOpts,
    Memory: ((inputs.memory as number | undefined) ?? 0) * MB,
    MemoryReservation: ((inputs.memoryReservation as number | undefined) ?? 0) * MB,
    MemorySwap: memorySwap !== undefined && memorySwap > 0 ? memorySwap * MB : memorySwap,
    ShmSize: inputs.shmSize !== undefined ? (inputs.shmSize as number) * MB : undefined,
    NanoCpus: inputs.cpus !== undefined ? nanoCpus(inputs.cpus as string) : undefined,
    CpuShares: inputs.cpuShares,
    CpusetCpus: inputs.cpuSet,
    NetworkMode: inputs.networkMode,
    UsernsMode: inputs.usernsMode,
    PidMode: inputs.pidMode,
    Sysctls: inputs.sysctls,
    IpcMode: inputs.ipcMode,
    GroupAdd: inputs.groupAdds,
    Init: inputs.init ?? false,
  };

  return {
    Image: inputs.image,
    Hostname: inputs.hostname ?? "",
    Domainname: inputs.domainname ?? "",
    Tty: inputs.tty,
    OpenStdin: inputs.stdinOpen,
    StopSignal: inputs.stopSignal,
    StopTimeout: inputs.stopTimeout,
    Env: inputs.envs,
    Cmd: inputs.command,
    Entrypoint: inputs.entrypoints,
    User: inputs.user ?? "",
    ExposedPorts: ports.exposed,
    WorkingDir: inputs.workingDir ?? "",
    Volumes: volumes.Volumes,
    Labels: labelMap(inputs.labels, runId),
    Healthcheck: inputs.healthcheck ? healthcheckSpec(inputs.healthcheck as Healthcheck) : undefined,
    HostConfig: hostConfig,
    NetworkingConfig: {},
  };
}
