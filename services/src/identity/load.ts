/**
 * Reading the three identity files, with one clear message per failure, and waiting for them when
 * they are absent at start: in a container they are delivered into a volume that may be filled a
 * moment after the service starts, and exiting then would only make the container crash-loop.
 */
import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import type { IdentityPaths } from "../config.ts";
import { ENV } from "../contract.ts";
import { combineIdentityErrors, describeFile, type FileRef, IdentityError } from "./errors.ts";
import type { IdentityContents, IdentityFileRefs } from "./validate.ts";

export function identityFileRefs(paths: IdentityPaths): IdentityFileRefs {
  return {
    cert: { variable: ENV.certFile, path: paths.certFile },
    key: { variable: ENV.keyFile, path: paths.keyFile },
    ca: { variable: ENV.caFile, path: paths.caFile },
  };
}

function readError(file: FileRef, error: NodeJS.ErrnoException): IdentityError {
  switch (error.code) {
    case "ENOENT":
    case "ENOTDIR":
      return new IdentityError("missing", `${describeFile(file)} does not exist`);
    case "EACCES":
    case "EPERM": {
      const uid = process.getuid?.();
      const who = uid === undefined ? "" : ` by uid ${uid}`;
      return new IdentityError(
        "unreadable",
        `${describeFile(file)} is not readable${who}: permission denied`,
      );
    }
    case "EISDIR":
      return new IdentityError("unreadable", `${describeFile(file)} is a directory, not a file`);
    default:
      return new IdentityError(
        "unreadable",
        `${describeFile(file)} cannot be read: ${error.code ?? error.message}`,
      );
  }
}

async function readOne(file: FileRef): Promise<string> {
  try {
    return await readFile(file.path, "utf8");
  } catch (error) {
    throw readError(file, error as NodeJS.ErrnoException);
  }
}

/** Reads all three files; every failure is reported (cert, key, CA order), not just the first. */
export async function readIdentityFiles(refs: IdentityFileRefs): Promise<IdentityContents> {
  const [cert, key, ca] = await Promise.allSettled([readOne(refs.cert), readOne(refs.key), readOne(refs.ca)]);
  const failures = [cert, key, ca].flatMap((result) => (result.status === "rejected" ? [result.reason] : []));
  if (failures.length > 0) throw combineIdentityErrors(failures);
  return {
    cert: (cert as PromiseFulfilledResult<string>).value,
    key: (key as PromiseFulfilledResult<string>).value,
    ca: (ca as PromiseFulfilledResult<string>).value,
  };
}

export interface WaitOptions {
  /** Give up after this long (0: do not wait at all). */
  waitMs: number;
  pollMs?: number;
  /** Once files have appeared after a wait, let a writer finish before reading them for real. */
  settleMs?: number;
  /** Called once, when the first read finds files absent. */
  onWaiting?: (missing: FileRef[]) => void;
  signal?: AbortSignal;
}

async function missingFiles(refs: IdentityFileRefs): Promise<FileRef[]> {
  const missing: FileRef[] = [];
  for (const file of [refs.cert, refs.key, refs.ca]) {
    try {
      await readOne(file);
    } catch (error) {
      if (error instanceof IdentityError && error.kind === "missing") missing.push(file);
    }
  }
  return missing;
}

export async function waitForIdentityFiles(
  refs: IdentityFileRefs,
  options: WaitOptions,
): Promise<IdentityContents> {
  const started = Date.now();
  let waited = false;
  for (;;) {
    try {
      const contents = await readIdentityFiles(refs);
      if (!waited) return contents;
      await sleep(options.settleMs ?? 300, undefined, { signal: options.signal });
      return await readIdentityFiles(refs);
    } catch (error) {
      // Only absence is waited for: a file that is there but unreadable will not fix itself.
      if (!(error instanceof IdentityError) || error.problems.some((problem) => problem.kind !== "missing"))
        throw error;
      if (Date.now() - started >= options.waitMs) {
        if (!waited) throw error;
        const waitedFor = ` (waited ${Math.round(options.waitMs / 1000)} s for it to be delivered)`;
        throw combineIdentityErrors(
          error.problems.map((problem) => new IdentityError("missing", `${problem.message}${waitedFor}`)),
        );
      }
      if (!waited) {
        waited = true;
        options.onWaiting?.(await missingFiles(refs));
      }
      await sleep(options.pollMs ?? 250, undefined, { signal: options.signal });
    }
  }
}
