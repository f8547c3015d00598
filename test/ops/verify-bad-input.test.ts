/**
 * `npm run verify` on bad input: one line on stderr naming the problem, the documented exit code,
 * and nothing changed (the only CLI call is the read of the state; no repair runs even with
 * --repair). A stack that does not exist, a stack with nothing deployed, an engine that does not
 * answer, an unknown argument, a STACK that is no stack name, a stack on Kubernetes (not checked
 * yet).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runVerify } from "./support/run-verify.ts";
import {
  type CliAnswer,
  flagValues,
  type StandInPulumi,
  startStandInPulumi,
} from "./support/standin-pulumi.ts";

const PREFIX = "urn:pulumi:dev::mtls-pki::";
const SERVICE = `${PREFIX}mtls:docker:MtlsService::mtls-server`;
const child = (type: string, name: string) => `${PREFIX}mtls:docker:MtlsService$${type}::${name}`;

/** The state of a deployed one-server stack, as `stack export` prints it. */
const DEPLOYED = {
  version: 3,
  deployment: {
    manifest: {},
    resources: [
      { urn: `${PREFIX}pulumi:pulumi:Stack::mtls-pki-dev`, type: "pulumi:pulumi:Stack", custom: false },
      { urn: SERVICE, type: "mtls:docker:MtlsService", custom: false },
      ...[
        ["docker:index/volume:Volume", "mtls-server-identity"],
        ["docker:index/container:Container", "mtls-server-delivery"],
        ["docker:index/container:Container", "mtls-server"],
      ].map(([type, name]) => ({
        urn: child(type!, name!),
        type,
        custom: true,
        parent: SERVICE,
        id: `${name}-id`,
        outputs: { name: `${name}-1234567`, image: "sha256:0000" },
      })),
    ],
  },
};

let cli: StandInPulumi;
let state: "missing" | "empty" | "deployed" = "missing";

beforeAll(async () => {
  cli = await startStandInPulumi((args): CliAnswer => {
    const stack = flagValues(args, "--stack")[0];
    if (state === "missing") return { stderr: `error: no stack named '${stack}' found\n`, code: 255 };
    if (state === "empty") return { stdout: JSON.stringify({ version: 3, deployment: { manifest: {} } }) };
    return { stdout: JSON.stringify(DEPLOYED) };
  });
});

afterAll(async () => {
  await cli?.close();
});

const verify = (args: string[], extra: NodeJS.ProcessEnv = {}) => runVerify(args, { ...cli.env, ...extra });

describe("npm run verify on bad input", () => {
  it("names a stack that does not exist, with the CLI's own words, and exits 2", async () => {
    state = "missing";
    cli.calls.length = 0;
    const result = await verify(["--repair"], { STACK: "nope" });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr.trim().split("\n")).toEqual([
      "verify: scripts/pulumi.sh stack export --stack nope failed (exit 255): error: no stack named 'nope' found",
    ]);
    expect(cli.calls).toEqual([["stack", "export", "--stack", "nope"]]);
  });

  it("says a stack with nothing deployed must be deployed first, and exits 2", async () => {
    state = "empty";
    const result = await verify([], { STACK: "staging" });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split("\n")).toEqual([
      'verify: stack "staging" has no deployed MtlsService or MtlsSwarmService (0 resources in its state): deploy it first with `STACK=staging npm run up`',
    ]);
  });

  it("names DOCKER_HOST when the engine does not answer, exits 3, and runs no repair", async () => {
    state = "deployed";
    cli.calls.length = 0;
    const result = await verify(["--repair"], {
      STACK: "dev",
      DOCKER_HOST: "unix:///nonexistent/docker.sock",
    });
    expect(result.code).toBe(3);
    expect(result.stdout).toBe("");
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^verify: the Docker engine at DOCKER_HOST=unix:\/\/\/nonexistent\/docker\.sock does not answer: .+/,
    );
    expect(cli.calls.map((args) => args[0])).toEqual(["stack"]);
  });

  it("refuses an unknown argument before reading anything, with exit 2", async () => {
    cli.calls.length = 0;
    const result = await verify(["--fix"]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(
      'verify: unknown argument "--fix": the only option is --repair (the stack comes from STACK)',
    );
    expect(cli.calls).toEqual([]);
  });

  it("refuses a STACK that is not a stack name, with exit 2", async () => {
    const result = await verify([], { STACK: "dev; rm -rf /" });
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe('verify: STACK="dev; rm -rf /" is not a stack name');
  });

  it("says a Kubernetes stack is not checked yet, naming its namespace and what to look at, with exit 6", async () => {
    cli.calls.length = 0;
    const result = await verify(["--repair"], { STACK: "kubernetes" });
    expect(result.code).toBe(6);
    expect(result.stdout).toBe("");
    expect(result.stderr.trim()).toBe(
      'verify: stack kubernetes runs on Kubernetes (mtls-pki:runtime kubernetes), which verify does not check yet; see what runs with: kubectl -n mtls-pki-kubernetes get deployments,pods,services,secrets (README, "Kubernetes")',
    );
    expect(cli.calls).toEqual([]);
  });
});
