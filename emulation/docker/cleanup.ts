/**
 * Removes every Docker object a test run created, found by the run label the emulation puts on each
 * (containers, then networks and volumes they held, then images), so that a crashed or interrupted
 * run leaves nothing behind once its cleanup (or a later sweep) runs. Returns what it removed.
 */
import { DockerApiError, dockerApi } from "./engine-api.ts";
import { RUN_LABEL } from "./naming.ts";

export interface CleanupReport {
  containers: string[];
  networks: string[];
  volumes: string[];
  images: string[];
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
    containers: await removeEach(
      containers.map((c) => c.Id),
      (id) => dockerApi("DELETE", `/containers/${id}`, { query: { force: true, v: true } }),
    ),
    networks: await removeEach(
      networks.map((n) => n.Id),
      (id) => dockerApi("DELETE", `/networks/${id}`),
    ),
    volumes: await removeEach(
      (volumes ?? []).map((v) => v.Name),
      (name) => dockerApi("DELETE", `/volumes/${encodeURIComponent(name)}`, { query: { force: true } }),
    ),
    images: await removeEach(
      images.map((i) => i.Id),
      // noprune: the untagged parents are the builder's cache, which a build of another test file
      // running at the same time may be standing on (removing them fails that build with
      // "unknown parent image ID"); they hold no label and no name of this run.
      (id) => dockerApi("DELETE", `/images/${id}`, { query: { force: true, noprune: true } }),
    ),
  };
}
