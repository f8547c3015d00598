/**
 * The Pulumi CLI commands `npm run verify` runs, answered from a stack deployed with the emulated
 * engine (test/program/deploy.ts) on a real Docker engine, for the stand-in `pulumi`:
 * - `stack export`: the state as the CLI prints it without --show-secrets (secret values as
 *   ciphertext objects), from the engine's resources and components' registered outputs;
 * - `refresh --target URN...`: what the provider's Read does for an object Docker no longer has
 *   (a container or volume by name, a network, swarm service or secret by id): the engine drops it
 *   from the state;
 * - `up [--target URN | --target-replace URN]...`: the program runs again (the emulation runs the
 *   whole program; nothing else differs, so every other resource is `same`), with the
 *   `--target-replace` URNs replaced.
 * Any other stack name answers as the CLI does for a stack that does not exist.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import * as pulumi from "@pulumi/pulumi";
import type { Deployment } from "../../program/deploy.ts";
import type { CliAnswer } from "./standin-pulumi.ts";
import { flagValues } from "./standin-pulumi.ts";

const run = promisify(execFile);
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

function ciphertext(): Record<string, string> {
  return { [SECRET_SIG]: "1b47061264138c4ac30d75fd1eb44270", ciphertext: "v1:emulated:ciphertext" };
}

function exportValue(value: unknown): unknown {
  return pulumi.runtime.isRpcSecret(value) ? ciphertext() : value;
}

export interface EmulatedCli {
  handle(args: string[]): Promise<CliAnswer>;
}

export function emulatedCli(options: {
  stack: string;
  current: () => Deployment;
  redeploy: () => Promise<Deployment>;
}): EmulatedCli {
  const exported = () => {
    const resources = options
      .current()
      .engine.resources()
      .map((r) => {
        const outputs = r.custom
          ? Object.fromEntries(
              Object.entries(r.outputs).map(([k, v]) => [k, r.secretOutputs.includes(k) ? ciphertext() : v]),
            )
          : Object.fromEntries(Object.entries(r.componentOutputs ?? {}).map(([k, v]) => [k, exportValue(v)]));
        return { urn: r.urn, custom: r.custom, id: r.id, type: r.type, parent: r.parent, outputs };
      });
    return { version: 3, deployment: { manifest: {}, resources } };
  };

  /**
   * Networks and swarm objects are looked up by id (as the provider's Read does: a network made
   * again by hand under the same name is another network), containers and volumes by name.
   */
  const dockerHas = async (type: string, name: string, id: string | undefined) => {
    const kind =
      ["volume", "secret", "service", "network"].find((k) => type.includes(`/${k}:`)) ?? "container";
    const byId = kind === "secret" || kind === "service" || kind === "network";
    try {
      await run("docker", [kind, "inspect", byId && id ? id : name]);
      return true;
    } catch {
      return false;
    }
  };

  return {
    async handle(args) {
      const stack = flagValues(args, "--stack")[0];
      if (stack !== options.stack) return { stderr: `error: no stack named '${stack}' found\n`, code: 255 };
      const engine = options.current().engine;
      if (args[0] === "stack" && args[1] === "export") return { stdout: `${JSON.stringify(exported())}\n` };
      if (args[0] === "refresh") {
        for (const urn of flagValues(args, "--target")) {
          const r = engine.resources().find((x) => x.urn === urn);
          if (r && !(await dockerHas(r.type, String(r.outputs.name ?? r.id), r.id))) engine.forget(urn);
        }
        return { stdout: "Refreshing (emulated)\n" };
      }
      if (args[0] === "up") {
        for (const urn of flagValues(args, "--target-replace")) engine.replaceOnNextRun(urn);
        const deployment = await options.redeploy();
        const ops = deployment.run.ops.filter((op) => op.op !== "same").map((op) => `${op.op} ${op.name}`);
        return { stdout: `Updating (emulated): ${ops.join(", ") || "no changes"}\n` };
      }
      return { stderr: `error: the emulated CLI does not answer "${args.join(" ")}"\n`, code: 255 };
    },
  };
}
