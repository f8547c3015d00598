/**
 * Where the services' build context (services/: Dockerfile and src/) is, for this file's caller.
 *
 * The package runs from two layouts: from its sources (components/*.ts, services/ one level up)
 * and, once installed, from its build (dist/components/*.js, services/ two levels up, while
 * dist/services/ holds only the compiled contract the components import). The build context is the
 * directory that holds the Dockerfile.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export function servicesDir(moduleUrl: string): string {
  const candidates = ["../services", "../../services"].map((rel) => fileURLToPath(new URL(rel, moduleUrl)));
  const found = candidates.find((dir) => existsSync(path.join(dir, "Dockerfile")));
  if (found === undefined) {
    throw new Error(
      `mtls-pki: the services' build context (services/Dockerfile) is missing; looked in ${candidates.join(" and ")}`,
    );
  }
  return found;
}
