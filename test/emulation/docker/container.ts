/**
 * docker.Container's lifecycle, in the provider's order (`resourceDockerContainerCreate`):
 *
 *   create → (networksAdvanced: disconnect "bridge", connect each network with its aliases)
 *          → uploads: one one-file tar per upload, PUT to "/" (uid/gid/mode from the tar header)
 *          → start if `start` → `wait` until healthy (error without a healthcheck)
 *          → `attach`: wait for exit (and collect `logs`) → read back.
 *
 * Read-back: `name`, `networkDatas`, `bridge`, published `ports`, and for a container that is not
 * running `exitCode` and `mustRun: false` (the provider's drift signal: with `mustRun` left at its
 * default true, a never-started container shows an update on every later apply).
 *
 * Update applies restart/memory/cpu changes with ContainerUpdate and starts a stopped container when
 * `mustRun` goes back to true; replacement is delete-before-replace. Delete = stop (grace
 * `destroyGraceSeconds`, default 0) + forced remove (with `removeVolumes`, default true).
 */
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import type {
  CreateRequest,
  CreateResult,
  DeleteRequest,
  DiffRequest,
  DiffResult,
  Inputs,
  State,
  UpdateRequest,
} from "../engine/provider.ts";
import {
  CONTAINER_RULES,
  CONTAINER_TYPE,
  checkContainer,
  type Port,
  UPDATABLE,
  type Upload,
} from "./container-check.ts";
import { containerCreateBody } from "./container-spec.ts";
import { diffProperties } from "./diff.ts";
import { DockerApiError, dockerApi } from "./engine-api.ts";
import { autoname } from "./naming.ts";
import { oneFileTar } from "./tar.ts";

const MB = 1024 * 1024;

interface Inspect {
  Id: string;
  Name: string;
  Image: string;
  State: { Running: boolean; ExitCode: number; Health?: { Status: string } };
  NetworkSettings: {
    Bridge: string;
    Ports: Record<string, { HostIp: string; HostPort: string }[] | null> | null;
    Networks: Record<
      string,
      {
        IPAddress: string;
        IPPrefixLen: number;
        Gateway: string;
        MacAddress: string;
        GlobalIPv6Address: string;
        GlobalIPv6PrefixLen: number;
        IPv6Gateway: string;
      }
    >;
  };
}

async function inspect(id: string): Promise<Inspect> {
  return (await dockerApi("GET", `/containers/${id}/json`)).body as Inspect;
}

export function diffContainer(req: DiffRequest): DiffResult {
  const news = checkContainer(req.name, req.newInputs);
  // An omitted name keeps the one Pulumi generated before; an explicit one is compared.
  if (news.name === undefined && req.oldInputs.name === undefined) news.name = req.oldState.name;
  // A published port without `external` keeps the host port the engine picked (Optional+Computed).
  const oldPorts = (req.oldState.ports ?? []) as Port[];
  if (Array.isArray(news.ports)) {
    news.ports = (news.ports as Port[]).map((port, i) =>
      port.external === undefined && oldPorts[i]?.internal === port.internal
        ? { ...port, external: oldPorts[i]?.external }
        : port,
    );
  }
  const { changed, replaces } = diffProperties(CONTAINER_RULES, req.oldState, news);
  if (changed.length === 0) return { kind: "none" };
  if (replaces.length > 0) return { kind: "replace", changed, deleteBeforeReplace: true };
  return { kind: "update", changed };
}

function uploadBytes(upload: Upload): Buffer {
  if (upload.content !== undefined && upload.content !== "") return Buffer.from(upload.content, "utf8");
  if (upload.contentBase64 !== undefined && upload.contentBase64 !== "") {
    return Buffer.from(upload.contentBase64, "base64");
  }
  return readFileSync(upload.source!);
}

/** Mode exactly as the provider decides it: permissions, else 0744 if executable, else 0644. */
function uploadMode(upload: Upload): number {
  if (upload.permissions) return Number.parseInt(upload.permissions, 8);
  return upload.executable ? 0o744 : 0o644;
}

async function uploadFiles(id: string, uploads: Upload[]): Promise<void> {
  for (const upload of uploads) {
    const tar = oneFileTar({
      name: upload.file,
      content: uploadBytes(upload),
      mode: uploadMode(upload),
      uid: upload.owner ? Number(upload.owner) : 0,
      gid: upload.group ? Number(upload.group) : 0,
      mtime: Date.now() / 1000,
    });
    try {
      await dockerApi("PUT", `/containers/${id}/archive`, {
        query: { path: "/" },
        raw: tar,
        contentType: "application/x-tar",
      });
    } catch (error) {
      // Only the path: the content may be a private key.
      throw new Error(`Unable to upload volume content to ${upload.file}: ${(error as Error).message}`);
    }
  }
}

interface NetworkAttachment {
  name: string;
  aliases?: string[];
  ipv4Address?: string;
  ipv6Address?: string;
  linkLocalIps?: string[];
  macAddress?: string;
}

async function attachNetworks(id: string, networks: NetworkAttachment[]): Promise<void> {
  try {
    await dockerApi("POST", "/networks/bridge/disconnect", { json: { Container: id, Force: false } });
  } catch (error) {
    if (!String((error as Error).message).includes("is not connected to the network")) {
      throw new Error(`Unable to disconnect the default network: ${(error as Error).message}`);
    }
  }
  for (const network of networks) {
    try {
      await dockerApi("POST", `/networks/${encodeURIComponent(network.name)}/connect`, {
        json: {
          Container: id,
          EndpointConfig: {
            Aliases: network.aliases,
            IPAMConfig: {
              IPv4Address: network.ipv4Address,
              IPv6Address: network.ipv6Address,
              LinkLocalIPs: network.linkLocalIps,
            },
            MacAddress: network.macAddress,
          },
        },
      });
    } catch (error) {
      throw new Error(`Unable to connect to network '${network.name}': ${(error as Error).message}`);
    }
  }
}

async function start(id: string): Promise<void> {
  try {
    await dockerApi("POST", `/containers/${id}/start`, { accept: [304] });
  } catch (error) {
    throw new Error(`Unable to start container: ${(error as Error).message}`);
  }
}

async function waitHealthy(id: string, timeoutSeconds: number): Promise<void> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const info = await inspect(id);
    if (!info.State.Health) {
      throw new Error(
        "you have supplied a 'wait' argument, but the container does not have a healthcheck defined. Please remove the 'wait' argument or add a 'healthcheck' attribute",
      );
    }
    if (info.State.Health.Status === "healthy") return;
    if (Date.now() >= deadline) throw new Error("container failed to be in healthy state");
    await sleep(1000);
  }
}

/** The engine's multiplexed log stream: 8-byte frame headers (stream, 0, 0, 0, size32). */
export function demuxLogs(raw: Buffer): string {
  const parts: Buffer[] = [];
  for (let offset = 0; offset + 8 <= raw.length; ) {
    const size = raw.readUInt32BE(offset + 4);
    parts.push(raw.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  return Buffer.concat(parts).toString("utf8");
}

async function attachAndCollect(id: string, inputs: Inputs): Promise<string | undefined> {
  await dockerApi("POST", `/containers/${id}/wait`, { query: { condition: "not-running" }, timeoutMs: 0 });
  if (!inputs.logs) return undefined;
  const { body } = await dockerApi("GET", `/containers/${id}/logs`, {
    query: { stdout: true, stderr: true },
    binary: true,
  });
  return inputs.tty ? (body as Buffer).toString("utf8") : demuxLogs(body as Buffer);
}

/** The provider's Read, for the outputs it refreshes after create and update. */
async function readBack(id: string, inputs: Inputs, state: State): Promise<State> {
  const info = await inspect(id);
  const next: State = { ...state, name: info.Name.replace(/^\//, ""), bridge: info.NetworkSettings.Bridge };
  next.networkDatas = Object.entries(info.NetworkSettings.Networks ?? {}).map(([networkName, n]) => ({
    networkName,
    ipAddress: n.IPAddress,
    ipPrefixLength: n.IPPrefixLen,
    gateway: n.Gateway,
    macAddress: n.MacAddress,
    globalIpv6Address: n.GlobalIPv6Address,
    globalIpv6PrefixLength: n.GlobalIPv6PrefixLen,
    ipv6Gateway: n.IPv6Gateway,
  }));
  if ((info.State.Running || inputs.mustRun) && Array.isArray(inputs.ports)) {
    next.ports = (inputs.ports as Port[]).map((port) => {
      const binding = info.NetworkSettings.Ports?.[`${port.internal}/${port.protocol}`]?.[0];
      return binding ? { ...port, external: Number(binding.HostPort) } : port;
    });
  }
  if (!info.State.Running) {
    next.exitCode = info.State.ExitCode;
    if (inputs.mustRun) next.mustRun = false;
  }
  return next;
}

export async function createContainer(req: CreateRequest, runId: string): Promise<CreateResult> {
  const inputs = checkContainer(req.name, req.inputs);
  const name = (inputs.name as string | undefined) ?? autoname(req.name);
  if (req.preview) return { id: "", state: { ...inputs, name } };

  let id: string;
  try {
    const { body } = await dockerApi("POST", "/containers/create", {
      query: { name },
      json: containerCreateBody(inputs, runId),
    });
    id = (body as { Id: string }).Id;
  } catch (error) {
    throw new Error(
      `Unable to create container with image ${String(inputs.image)}: ${(error as Error).message}`,
    );
  }
  if (Array.isArray(inputs.networksAdvanced) && inputs.networksAdvanced.length > 0) {
    await attachNetworks(id, inputs.networksAdvanced as NetworkAttachment[]);
  }
  await uploadFiles(id, (inputs.uploads ?? []) as Upload[]);
  if (inputs.start) {
    await start(id);
    if (inputs.wait) await waitHealthy(id, inputs.waitTimeout as number);
  }
  let containerLogs: string | undefined;
  if (inputs.attach) containerLogs = await attachAndCollect(id, inputs);
  const state = await readBack(id, inputs, { ...inputs, name });
  if (containerLogs !== undefined) state.containerLogs = containerLogs;
  return { id, state };
}

export async function updateContainer(req: UpdateRequest): Promise<CreateResult> {
  const inputs = checkContainer(req.name, req.inputs);
  const state: State = { ...inputs, name: req.oldState.name };
  if (req.oldState.containerLogs !== undefined) state.containerLogs = req.oldState.containerLogs;
  if (req.preview) return { id: req.id, state };

  if (req.oldState.mustRun === false && inputs.mustRun === true && inputs.start) await start(req.id);
  if (UPDATABLE.some((key) => diffProperties({ [key]: {} }, req.oldState, inputs).changed.length > 0)) {
    const memorySwap = inputs.memorySwap as number | undefined;
    try {
      await dockerApi("POST", `/containers/${req.id}/update`, {
        json: {
          RestartPolicy: { Name: inputs.restart, MaximumRetryCount: inputs.maxRetryCount ?? 0 },
          CpuShares: inputs.cpuShares ?? 0,
          Memory: ((inputs.memory as number | undefined) ?? 0) * MB,
          MemoryReservation: ((inputs.memoryReservation as number | undefined) ?? 0) * MB,
          CpusetCpus: inputs.cpuSet ?? "",
          ...(memorySwap ? { MemorySwap: memorySwap > 0 ? memorySwap * MB : memorySwap } : {}),
        },
      });
    } catch (error) {
      throw new Error(`Unable to update a container: ${(error as Error).message}`);
    }
  }
  return { id: req.id, state: await readBack(req.id, inputs, state) };
}

export async function deleteContainer(req: DeleteRequest): Promise<void> {
  if (!req.state.attach) {
    const grace = (req.state.destroyGraceSeconds as number | undefined) ?? 0;
    try {
      await dockerApi("POST", `/containers/${req.id}/stop`, { query: { t: grace }, accept: [304, 404] });
    } catch (error) {
      throw new Error(`Error stopping container ${req.id}: ${(error as Error).message}`);
    }
  }
  try {
    await dockerApi("DELETE", `/containers/${req.id}`, {
      query: { v: req.state.removeVolumes !== false, force: true },
      accept: [404],
    });
  } catch (error) {
    if (error instanceof DockerApiError && /is already in progress/.test(error.message)) return;
    throw new Error(`Error deleting container ${req.id}: ${(error as Error).message}`);
  }
}

export { CONTAINER_TYPE };
