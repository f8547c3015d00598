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

/**
 * A container Docker is removing already (a task's, as its swarm service goes) answers 409
 * "removal ... is already in progress": wait until it is gone, for a while.
 */
async function removeContainer(id: string): Promise<unknown> {
  try {
    return await dockerApi("DELETE", `/containers/${id}`, { query: { force: true, v: true } });
  } catch (error) {
    const inProgress =
      error instanceof DockerApiError && error.status === 409 && /already in progress/.test(error.message);
    if (!inProgress) throw error;
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await dockerApi("GET", `/containers/${id}/json`);
      } catch (gone) {
        if (gone instanceof DockerApiError && gone.status === 404) return undefined;
        throw gone;
      }
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/** Removes each object; already gone (404) counts as removed, other failures are collected in `failures`. */
async function removeEach(
  ids: string[],
  remove: (id: string) => Promise<unknown>,
  failures: unknown[],
): Promise<string[]> {
  const removed: string[] = [];
  for (const id of ids) {
    try {
      await remove(id);
      removed.push(id);
    } catch (error) {
      if (!(error instanceof DockerApiError && error.status === 404)) failures.push(error);
    }
  }
  return removed;
}

/**
 * Removes the objects labelled with `runId`; `runId` "*" sweeps every run's objects. A failure to
 * remove one object does not stop the others (a run's images are still removed when one of its
 * containers will not go); the failures are thrown together at the end.
 */
export async function cleanupRun(runId: string): Promise<CleanupReport> {
  const filters = JSON.stringify({ label: [runId === "*" ? RUN_LABEL : `${RUN_LABEL}=${runId}`] });
  const failures: unknown[] = [];

  // Services first: their tasks' containers, secrets and network endpoints go with them.
  const services = await removeEach(
    (await swarmList("/services", filters)).map((s) => s.ID),
    (id) => dockerApi("DELETE", `/services/${id}`),
    failures,
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

  const report: CleanupReport = {
    services,
    containers: await removeEach(
      containers.map((c) => c.Id),
      removeContainer,
      failures,
    ),
    networks: await removeEach(
      networks.map((n) => n.Id),
      (id) => removeNetwork(id),
      failures,
    ),
    volumes: await removeEach(
      (volumes ?? []).map((v) => v.Name),
      (name) => dockerApi("DELETE", `/volumes/${encodeURIComponent(name)}`, { query: { force: true } }),
      failures,
    ),
    images: await removeEach(
      images.map((i) => i.Id),
      // Built with BuildKit (image.ts), an image has no parent chain: removing it removes all
      // the run's build left on the engine, a tagged image or one whose tag a later build took.
      (id) => dockerApi("DELETE", `/images/${id}`, { query: { force: true } }),
      failures,
    ),
    secrets: await removeEach(
      (await swarmList("/secrets", filters)).map((s) => s.ID),
      (id) => dockerApi("DELETE", `/secrets/${id}`),
      failures,
    ),
  };
  if (failures.length > 0) {
    throw new AggregateError(
      failures,
      `cleanup of ${runId}: ${failures.map((f) => (f as Error).message ?? String(f)).join("; ")}`,
    );
  }
  return report;
}
