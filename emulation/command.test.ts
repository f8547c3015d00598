/**
 * The emulated `command:local:Command` runs its commands for real, as @pulumi/command v1 does:
 * create / update / delete with `environment`, the previous output in PULUMI_COMMAND_STDOUT,
 * `triggers` replacing, a failing command failing the step, preview running nothing.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { local } from "@pulumi/command";
import type * as pulumi from "@pulumi/pulumi";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { createCommandProvider } from "./command/provider.ts";
import { EmulatedEngine } from "./engine/engine.ts";
import { runProgram } from "./run-program.ts";

let dir: string;
let engine: EmulatedEngine;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "command-emulation-"));
  engine = new EmulatedEngine([createCommandProvider()]);
});

afterEach(async () => {
  await engine.destroyAll();
  rmSync(dir, { recursive: true, force: true });
});

function journal(): string[] {
  try {
    return readFileSync(path.join(dir, "journal"), "utf8").trim().split("\n");
  } catch {
    return [];
  }
}

interface Spec {
  word?: string;
  trigger?: number;
  update?: string;
  create?: string;
  extra?: Record<string, unknown>;
}

function program(spec: Spec = {}) {
  return async () => {
    const cmd = new local.Command("note", {
      create: spec.create ?? 'echo "create $WORD" >> journal; echo "made $WORD"',
      update: spec.update,
      delete: 'echo "delete $WORD after $PULUMI_COMMAND_STDOUT" >> journal',
      dir,
      environment: { WORD: spec.word ?? "alpha" },
      triggers: [spec.trigger ?? 1],
      ...(spec.extra as object),
    } as local.CommandArgs);
    return { stdout: cmd.stdout as pulumi.Output<string> };
  };
}

const up = (p: () => Promise<Record<string, unknown>>, preview = false) =>
  runProgram({ engine, project: "proj", stack: "dev", program: p, preview });

describe("command:local:Command", () => {
  test("create runs the command in dir with its environment and returns stdout without the trailing newline", async () => {
    const run = await up(program());
    expect(run.exports.stdout).toBe("made alpha");
    expect(journal()).toEqual(["create alpha"]);
  });

  test("delete runs the delete command with the state's environment and the previous stdout", async () => {
    await up(program());
    await engine.destroyAll();
    expect(journal()).toEqual(["create alpha", "delete alpha after made alpha"]);
  });

  test("a changed input other than triggers updates in place, running create when there is no update command", async () => {
    await up(program());
    const run = await up(program({ word: "beta" }));
    expect(run.ops.map((o) => o.op)).toEqual(["update"]);
    expect(run.exports.stdout).toBe("made beta");
    expect(journal()).toEqual(["create alpha", "create beta"]);
  });

  test("an update command, when given, runs instead of create", async () => {
    await up(program({ update: 'echo "update $WORD" >> journal; echo updated' }));
    const run = await up(program({ word: "beta", update: 'echo "update $WORD" >> journal; echo updated' }));
    expect(run.exports.stdout).toBe("updated");
    expect(journal()).toEqual(["create alpha", "update beta"]);
  });

  test("a changed trigger replaces: the new command is created before the old one is deleted", async () => {
    await up(program());
    const run = await up(program({ word: "beta", trigger: 2 }));
    expect(run.ops.map((o) => o.op)).toEqual(["replace"]);
    expect(journal()).toEqual(["create alpha", "create beta", "delete alpha after made alpha"]);
  });

  test("unchanged inputs run nothing", async () => {
    await up(program());
    const run = await up(program());
    expect(run.ops.map((o) => o.op)).toEqual(["same"]);
    expect(journal()).toEqual(["create alpha"]);
  });

  test("stdin reaches the command's standard input", async () => {
    const run = await up(program({ create: "cat", extra: { stdin: "piped in" } }));
    expect(run.exports.stdout).toBe("piped in");
  });

  test("a failing command fails the run with its exit status, the command and its output", async () => {
    const failing = program({ create: "echo broken >&2; exit 3" });
    await expect(up(failing)).rejects.toThrow(/exit status 3: running "echo broken >&2; exit 3":\nbroken/);
  });

  test("preview runs nothing and leaves stdout unknown", async () => {
    const run = await up(program(), true);
    expect(run.isKnown("stdout")).toBe(false);
    expect(journal()).toEqual([]);
  });

  test("assetPaths is refused as not emulated", async () => {
    await expect(up(program({ extra: { assetPaths: ["*.txt"] } }))).rejects.toThrow(
      /command:local:Command "note": input\(s\) not emulated: assetPaths/,
    );
  });
});
