/** The stack files in the repository, read as the Pulumi engine hands their config to a program. */
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Names of every `Pulumi.<stack>.yaml` in the repository. */
export function stackNames(): string[] {
  return readdirSync(ROOT)
    .map((file) => /^Pulumi\.(.+)\.yaml$/.exec(file)?.[1])
    .filter((name): name is string => name !== undefined)
    .sort();
}

/**
 * A stack's config as the engine passes it: keys without the project namespace, values as strings
 * (arrays and objects JSON-encoded, as Pulumi does for structured config).
 */
export function stackConfig(stack: string, project = "mtls-pki"): Record<string, string> {
  const file = parse(readFileSync(`${ROOT}/Pulumi.${stack}.yaml`, "utf8")) as {
    config?: Record<string, unknown>;
  };
  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries(file.config ?? {})) {
    if (!key.startsWith(`${project}:`)) continue;
    if (value !== null && typeof value === "object" && "secure" in value) {
      throw new Error(`Pulumi.${stack}.yaml: ${key} is a secret; the tests expect none in stack files`);
    }
    config[key.slice(project.length + 1)] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return config;
}
