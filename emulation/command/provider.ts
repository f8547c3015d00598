/**
 * The emulated command provider (pkg "command"): `command:local:Command` run for real on this
 * machine as @pulumi/command v1 runs it (pulumi-command provider/pkg/provider/local/
 * commandController.go, commandOutputs.go, common/inputs.go):
 *
 * - create runs `create`, update runs `update` (else `create`), delete runs `delete`, each through
 *   the interpreter (default `/bin/sh -c`) in `dir` (default: the working directory) with this
 *   process's environment plus `environment`, and the previous run's `stdout`/`stderr` as
 *   PULUMI_COMMAND_STDOUT / PULUMI_COMMAND_STDERR unless `addPreviousOutputInEnv` is false;
 * - `stdout` and `stderr` are the outputs, one trailing newline trimmed;
 * - a change of `triggers` replaces the resource (the schema's replaceOnChanges; the SDK adds
 *   `replaceOnChanges: ["triggers[*]"]` too), any other change is an update; the id is
 *   `<name><8 hex>` (NewUniqueHex);
 * - a non-zero exit fails the step with `exit status <n>: running "<command>":` and the output.
 *
 * Preview runs nothing. `assetPaths` and `archivePaths` are refused (not modelled).
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import type { EmulatedProvider, Inputs, State } from "../engine/provider.ts";
import { changedKeys } from "../engine/values.ts";

export const COMMAND_TYPE = "command:local:Command";

const INPUTS = [
  "create",
  "update",
  "delete",
  "triggers",
  "environment",
  "dir",
  "interpreter",
  "stdin",
  "logging",
  "addPreviousOutputInEnv",
];

function known(type: string): void {
  if (type !== COMMAND_TYPE) throw new Error(`command emulation: resource type ${type} is not emulated`);
}

function checkInputs(name: string, inputs: Inputs): void {
  const extra = Object.keys(inputs).filter((k) => !INPUTS.includes(k) && inputs[k] !== undefined);
  if (extra.length > 0) {
    throw new Error(
      `command emulation: ${COMMAND_TYPE} "${name}": input(s) not emulated: ${extra.join(", ")}`,
    );
  }
}

interface RunResult {
  stdout: string;
  stderr: string;
}

/** commandOutputs.go `run`. */
function run(command: string, inputs: Inputs, previous: State): Promise<RunResult> {
  const interpreter =
    Array.isArray(inputs.interpreter) && inputs.interpreter.length > 0
      ? (inputs.interpreter as string[])
      : ["/bin/sh", "-c"];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...((inputs.environment ?? {}) as Record<string, string>),
  };
  if (inputs.addPreviousOutputInEnv !== false) {
    if (previous.stdout) env.PULUMI_COMMAND_STDOUT = String(previous.stdout);
    if (previous.stderr) env.PULUMI_COMMAND_STDERR = String(previous.stderr);
  }
  const [program, ...args] = [...interpreter, command];
  const hasStdin = typeof inputs.stdin === "string" && inputs.stdin.length > 0;
  return new Promise((resolve, reject) => {
    const child = spawn(program ?? "/bin/sh", args, {
      cwd: typeof inputs.dir === "string" ? inputs.dir : process.cwd(),
      env,
      // Standard input only when `stdin` is given, as the plugin sets cmd.Stdin.
      stdio: [hasStdin ? "pipe" : "ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let both = "";
    child.stdout?.setEncoding("utf8").on("data", (c: string) => {
      stdout += c;
      both += c;
    });
    child.stderr?.setEncoding("utf8").on("data", (c: string) => {
      stderr += c;
      both += c;
    });
    child.on("error", (err) =>
      reject(new Error(`${err.message}: running ${JSON.stringify(command)}:\n${both}`)),
    );
    child.on("close", (code, signal) => {
      if (code === 0) {
        resolve({ stdout: stdout.replace(/\n$/, ""), stderr: stderr.replace(/\n$/, "") });
        return;
      }
      const status = signal ? `signal: ${signal}` : `exit status ${code}`;
      reject(new Error(`${status}: running ${JSON.stringify(command)}:\n${both}`));
    });
    if (hasStdin && child.stdin) {
      // A command that exits without reading its input is not an error of the step.
      child.stdin.on("error", () => {});
      child.stdin.end(inputs.stdin);
    }
  });
}

export function createCommandProvider(): EmulatedProvider {
  return {
    pkg: "command",
    secretOutputs(type) {
      known(type);
      return [];
    },
    diff(req) {
      known(req.type);
      checkInputs(req.name, req.newInputs);
      const changed = changedKeys(req.oldInputs, req.newInputs);
      if (changed.length === 0) return { kind: "none" };
      if (changed.includes("triggers")) return { kind: "replace", changed, deleteBeforeReplace: false };
      return { kind: "update", changed };
    },
    async create(req) {
      known(req.type);
      checkInputs(req.name, req.inputs);
      const id = `${req.name}${randomBytes(4).toString("hex")}`;
      if (req.preview) return { id: "", state: { ...req.inputs } };
      const command = req.inputs.create;
      const out =
        typeof command === "string" ? await run(command, req.inputs, {}) : { stdout: "", stderr: "" };
      return { id, state: { ...req.inputs, ...out } };
    },
    async update(req) {
      checkInputs(req.name, req.inputs);
      const previous = { stdout: req.oldState.stdout ?? "", stderr: req.oldState.stderr ?? "" };
      const command = req.inputs.update ?? req.inputs.create;
      if (req.preview || typeof command !== "string")
        return { id: req.id, state: { ...req.inputs, ...previous } };
      const out = await run(command, req.inputs, req.oldState);
      return { id: req.id, state: { ...req.inputs, ...out } };
    },
    async delete(req) {
      const command = req.state.delete;
      if (typeof command === "string") await run(command, req.state, req.state);
    },
  };
}
