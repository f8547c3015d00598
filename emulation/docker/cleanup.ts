/**
 * Removes every Docker object a test run created, found by the run label the emulation puts on each
 * (swarm services, containers, then the networks, volumes and secrets they held, then images), so that a crashed or interrupted
 * run leaves nothing behind once its cleanup (or a later sweep) runs. Returns what it removed.
 */
import { DockerApiError, dockerApi } from "./engine-api.ts";
import { RUN_LABEL } from "./naming.ts";

export interface CleanupReport {
  services: string[];
  containers: string[];
  networks: string[];
  volumes: string[];
  images: string[];
  secrets: string[];
}

/** Swarm objects exist only on a swarm manager; elsewhere there are none to remove. */
async function swarmList(path: string, filters: string): Promise<{ ID: string }[]> {
  try {
    return (await dockerApi("GET", path, { query: { filters } })).body as { ID: string }[];
  } catch (error) {
    if (error instanceof DockerApiError && error.status === 503) return [];
    throw error;
  }
}

/** A network whose endpoints (a removed service's tasks) are still going away: retried for a while. */
async function removeNetwork(id: string): Promise<unknown> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      return await dockerApi("DELETE", `/networks/${id}`);
    } catch (error) {
      // A removed swarm network stays listed for a few seconds, and deleting it again says so.
      if (error instanceof DockerApiError && /network .* not found/.test(error.message)) return undefined;
      const pending = error instanceof DockerApiError && /has active endpoints/.test(error.message);
      if (!pending || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

async function removeEach(ids: string[], remove: (id: string) => Promise<unknown>): Promise<string[]> {
  const removed: string[] = [];
  for (const id of ids) {
    try {
      await remove(id);
      removed.push(id);
    } catch (error) {
      // Already gone (404) is fine; anything else is reported, after trying the others.
      if (!(error instanceof DockerApiError && error.status === 404)) throw error;
    }
  }
  return removed;
}

/** Removes the objects labelled with `runId`; `runId` "*" sweeps every run's objects. */
export async function cleanupRun(runId: string): Promise<CleanupReport> {
  const filters = JSON.stringify({ label: [runId === "*" ? RUN_LABEL : `${RUN_LABEL}=${runId}`] });

  // Services first: their tasks' containers, secrets and network endpoints go with them.
  const services = await removeEach(
    (await swarmList("/services", filters)).map((s) => s.ID),
    (id) => dockerApi("DELETE", `/services/${id}`),
  );

  const containers = (await dockerApi("GET", "/containers/json", { query: { all: true, filters } })).body as {
    Id: string;
  }[];
  const networks = (await dockerApi("GET", "/networks", { query: { filters } })).body as { Id: string }[];
  const volumes = (
    (await dockerApi("GET", "/volumes", { query: { filters } })).body as {
      Volumes: { Name: string }[] | null;
    }
  ).Volumes;
  const images = (await dockerApi("GET", "/images/json", { query: { filters } })).body as { Id: string }[];

  return {
    services,
    containers: await removeEach(
      containers.map((c) => c.Id),
      (id) => dockerApi("DELETE", `/containers/${id}`, { query: { force: true, v: true } }),
    ),
    networks: await removeEach(
      networks.map((n) => n.Id),
      (id) => removeNetwork(id),
    ),
    volumes: await removeEach(
      (volumes ?? []).map((v) => v.Name),
      (name) => dockerApi("DELETE", `/volumes/${encodeURIComponent(name)}`, { query: { force: true } }),
    ),
    images: await removeEach(
      images.map((i) => i.Id),
      // Built with BuildKit (image.ts), an image has no parent chain: removing it removes all
      // the run's build left on the engine, a tagged image or one whose tag a later build took.
      (id) => dockerApi("DELETE", `/images/${id}`, { query: { force: true } }),
    ),
    secrets: await removeEach(
      (await swarmList("/secrets", filters)).map((s) => s.ID),
      (id) => dockerApi("DELETE", `/secrets/${id}`),
    ),
  };
}
