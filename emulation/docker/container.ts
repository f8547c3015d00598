/**
 * docker.Container's lifecycle, in the provider's order (`resourceDockerContainerCreate`):
 *
 *   create → (networksAdvanced: disconnect "bridge", connect each network with its aliases)
 *          → uploads: one one-file tar per upload, PUT to "/" (uid/gid/mode from the tar header)
 *          → start if `start` → `wait` until healthy (error without a healthcheck) → read back.
 *
 * Read-back: `name`, published `ports` with the host port the engine assigned (`external` is
 * computed), and for a container that is not running `mustRun: false` (the provider's drift signal: with `mustRun` left at its default true, a
 * never-started container shows an update on every later apply).
 *
 * Update applies restart/memory changes with ContainerUpdate and starts a stopped container when
 * `mustRun` goes back to true; replacement is delete-before-replace (the provider's DeleteBeforeReplace,
 * which a program may override with the `deleteBeforeReplace: false` option). Delete = stop, waiting
 * `destroyGraceSeconds` for the container to exit on its stop signal (none when unset), then a forced
 * remove.
 */
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
  type Healthcheck,
  type Port,
  parseGoDuration,
  UPDATABLE,
  type Upload,
} from "./container-schema.ts";
import { diffProperties } from "./diff.ts";
import { DockerApiError, dockerApi } from "./engine-api.ts";
import { autoname, labelMap } from "./naming.ts";
import { oneFileTar } from "./tar.ts";

export { CONTAINER_TYPE };

const MB = 1024 * 1024;

interface Inspect {
  Name: string;
  HostConfig: { NetworkMode: string };
  State: { Running: boolean; Health?: { Status: string } };
  NetworkSettings: {
    Ports: Record<string, { HostIp: string; HostPort: string }[] | null> | null;
    Networks: Record<string, { IPAddress: string; IPPrefixLen: number; Gateway: string; MacAddress: string }>;
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

/** Checked inputs → the Engine API's container-create body, as the provider fills Config/HostConfig. */
function createBody(inputs: Inputs, runId: string): Record<string, unknown> {
  const exposed: Record<string, object> = {};
  const bindings: Record<string, object[]> = {};
  for (const port of (inputs.ports ?? []) as Port[]) {
    const key = `${port.internal}/${port.protocol}`;
    exposed[key] = {};
    bindings[key] = [
      ...(bindings[key] ?? []),
      { HostIp: port.ip, HostPort: port.external ? String(port.external) : "" },
    ];
  }
  const healthcheck = inputs.healthcheck as Healthcheck | undefined;
  const capabilities = inputs.capabilities as { adds?: string[]; drops?: string[] } | undefined;
  const memorySwap = inputs.memorySwap as number | undefined;
  const mounts = (inputs.mounts ?? []) as {
    type: string;
    target: string;
    source?: string;
    readOnly?: boolean;
  }[];
  return {
    Image: inputs.image,
    Env: inputs.envs,
    Cmd: inputs.command,
    Entrypoint: inputs.entrypoints,
    User: inputs.user ?? "",
    ExposedPorts: exposed,
    Labels: labelMap(inputs.labels, runId),
    Healthcheck: healthcheck && {
      Test: healthcheck.tests,
      Interval: parseGoDuration(healthcheck.interval!),
      Timeout: parseGoDuration(healthcheck.timeout!),
      StartPeriod: parseGoDuration(healthcheck.startPeriod!),
      Retries: healthcheck.retries,
    },
    HostConfig: {
      RestartPolicy: { Name: inputs.restart },
      Mounts: mounts.map((m) => ({
        Type: m.type,
        Target: m.target,
        Source: m.source ?? "",
        ReadOnly: m.readOnly ?? false,
      })),
      ReadonlyRootfs: inputs.readOnly,
      LogConfig: { Type: inputs.logDriver ?? "", Config: inputs.logOpts ?? {} },
      PortBindings: bindings,
      CapAdd: capabilities?.adds,
      CapDrop: capabilities?.drops,
      SecurityOpt: inputs.securityOpts,
      Sysctls: inputs.sysctls,
      Memory: ((inputs.memory as number | undefined) ?? 0) * MB,
      // The provider passes -1 (unlimited) as is and megabytes otherwise.
      MemorySwap: memorySwap !== undefined && memorySwap > 0 ? memorySwap * MB : memorySwap,
      NetworkMode: inputs.networkMode,
    },
  };
}

async function uploadFiles(id: string, uploads: Upload[]): Promise<void> {
  for (const upload of uploads) {
    const tar = oneFileTar({
      name: upload.file,
      content: Buffer.from(upload.content, "utf8"),
      // The provider's mode: `permissions`, else 0644 (0744 with `executable`, not emulated).
      mode: upload.permissions ? Number.parseInt(upload.permissions, 8) : 0o644,
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

async function attachNetworks(id: string, networks: { name: string; aliases?: string[] }[]): Promise<void> {
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
        json: { Container: id, EndpointConfig: { Aliases: network.aliases } },
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

/** The provider's `wait`: poll the health status every second, up to `waitTimeout` seconds. */
async function waitHealthy(id: string, timeoutSeconds: number): Promise<void> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const health = (await inspect(id)).State.Health;
    if (!health) {
      throw new Error(
        "you have supplied a 'wait' argument, but the container does not have a healthcheck defined. Please remove the 'wait' argument or add a 'healthcheck' attribute",
      );
    }
    if (health.Status === "healthy") return;
    if (Date.now() >= deadline) throw new Error("container failed to be in healthy state");
    await sleep(1000);
  }
}

/** The provider's Read, for the outputs it refreshes after create and update. */
async function readBack(id: string, inputs: Inputs, state: State): Promise<State> {
  const info = await inspect(id);
  const next: State = { ...state, name: info.Name.replace(/^\//, "") };
  // Docker stores a joined namespace as `container:<full id>` whatever it was given (a name, a
  // short id), and the provider reads that back: only the full id makes no diff on the next up.
  if (String(inputs.networkMode).startsWith("container:")) next.networkMode = info.HostConfig.NetworkMode;
  if ((info.State.Running || inputs.mustRun) && Array.isArray(inputs.ports)) {
    next.ports = (inputs.ports as Port[]).map((port) => {
      const binding = info.NetworkSettings.Ports?.[`${port.internal}/${port.protocol}`]?.[0];
      return binding ? { ...port, external: Number(binding.HostPort) } : port;
    });
  }
  if (!info.State.Running) {
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
      json: createBody(inputs, runId),
    });
    id = (body as { Id: string }).Id;
  } catch (error) {
    throw new Error(
      `Unable to create container with image ${String(inputs.image)}: ${(error as Error).message}`,
    );
  }
  const networks = (inputs.networksAdvanced ?? []) as { name: string; aliases?: string[] }[];
  if (networks.length > 0) await attachNetworks(id, networks);
  await uploadFiles(id, (inputs.uploads ?? []) as Upload[]);
  if (inputs.start) {
    await start(id);
    if (inputs.wait) await waitHealthy(id, inputs.waitTimeout as number);
  }
  return { id, state: await readBack(id, inputs, { ...inputs, name }) };
}

export async function updateContainer(req: UpdateRequest): Promise<CreateResult> {
  const inputs = checkContainer(req.name, req.inputs);
  const state: State = { ...inputs, name: req.oldState.name };
  if (req.preview) return { id: req.id, state };

  if (req.oldState.mustRun === false && inputs.mustRun === true && inputs.start) await start(req.id);
  if (UPDATABLE.some((key) => diffProperties({ [key]: {} }, req.oldState, inputs).changed.length > 0)) {
    const memorySwap = inputs.memorySwap as number | undefined;
    try {
      await dockerApi("POST", `/containers/${req.id}/update`, {
        json: {
          RestartPolicy: { Name: inputs.restart },
          Memory: ((inputs.memory as number | undefined) ?? 0) * MB,
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
  try {
    // The provider stops every container before removing it, waiting `destroyGraceSeconds` (from the
    // state: the old container's own value) for it to exit after its stop signal, else not at all.
    const grace = Number(req.state.destroyGraceSeconds ?? 0);
    await dockerApi("POST", `/containers/${req.id}/stop`, {
      query: { t: Math.max(grace, 0) },
      accept: [304, 404],
    });
    await dockerApi("DELETE", `/containers/${req.id}`, { query: { v: true, force: true }, accept: [404] });
  } catch (error) {
    if (error instanceof DockerApiError && /is already in progress/.test(error.message)) return;
    throw new Error(`Error deleting container ${req.id}: ${(error as Error).message}`);
  }
}
