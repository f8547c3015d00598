/** The role the image's entry point runs: its first argument, `server` when absent. */
import { ConfigError } from "./config.ts";
import { ROLES, type Role } from "./contract.ts";

export function pickRole(args: readonly string[]): { role: Role; rest: string[] } {
  const [first, ...rest] = args;
  if (first === undefined || first.startsWith("-")) return { role: "server", rest: [...args] };
  if ((ROLES as readonly string[]).includes(first)) return { role: first as Role, rest };
  throw new ConfigError(`unknown role ${JSON.stringify(first)}: expected ${ROLES.join(" or ")}`);
}
