/**
 * The image's entry point: the first argument picks the role (`server`, the default, or `client`)
 * and the rest is passed on, so `node services/src/main.ts client --once` makes one client round
 * and `node services/src/main.ts` runs the server.
 */
import type { Role } from "./contract.ts";
import { exitWithError } from "./lifecycle.ts";
import { pickRole } from "./role.ts";

let picked: { role: Role; rest: string[] };
try {
  picked = pickRole(process.argv.slice(2));
} catch (error) {
  exitWithError("main", error);
}
if (picked.role === "client") await (await import("./client.ts")).main(picked.rest);
else await (await import("./server.ts")).main(picked.rest);
