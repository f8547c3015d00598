/**
 * The user-facing scripts around the Pulumi CLI: npm run up (scripts/up.sh), scripts/pulumi.sh and
 * scripts/client-credentials.sh. The tests do not download the Pulumi CLI, so a stand-in `pulumi`
 * on PATH records how it was called and answers `stack output` like the real one (JSON on stdout,
 * or the CLI's error line and exit status 255 for a stack that does not exist or has no such
 * output); everything else (backend, passphrase file and its mode, files written, the `pulumi` npm
 * package's launcher) is real.
 */
import { execFile } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { freePort } from "../support/free-port.ts";

const run = promisify(execFile);
const REPO = new URL("../../", import.meta.url).pathname;

let project: string;
let env: NodeJS.ProcessEnv;

const OUTPUTS = {
  "client-a": { certPem: "CERT-A\n", keyPem: "-----BEGIN PRIVATE KEY-----\nA\n", caPem: "CA\n" },
};

beforeEach(() => {
  project = mkdtempSync(join(tmpdir(), "mtls-project-"));
  mkdirSync(join(project, "scripts"));
  for (const script of [
    "pulumi.sh",
    "up.sh",
    "client-credentials.sh",
    "provision-node.sh",
    "project-node.sh",
    "with-node.sh",
  ]) {
    cpSync(join(REPO, "scripts", script), join(project, "scripts", script));
  }
  cpSync(join(REPO, "package.json"), join(project, "package.json"));
  writeFileSync(join(project, "Pulumi.dev.yaml"), "config: {}\n");
  const bin = join(project, "bin");
  mkdirSync(bin);
  writeFileSync(join(bin, "pulumi"), standInCli("on-path"), { mode: 0o755 });
  env = {
    ...process.env,
    PATH: `${bin}:${dirname(process.execPath)}:/usr/bin:/bin`,
    PULUMI_CONFIG_PASSPHRASE: "from-the-environment",
    PULUMI_HOME: join(project, "pulumi-home"),
  };
});
afterEach(() => rmSync(project, { recursive: true, force: true }));

/**
 * The stand-in CLI: logs which copy ran, its arguments and the environment the wrapper gave it.
 * STAND_IN_STACK=missing answers as the real CLI does for a stack the backend does not have, and
 * STAND_IN_STACK=empty as for a stack never deployed (no outputs).
 */
function standInCli(name: string): string {
  return `#!/bin/sh
echo "${name}: $* | backend=$PULUMI_BACKEND_URL | passfile=$PULUMI_CONFIG_PASSPHRASE_FILE | pass=\${PULUMI_CONFIG_PASSPHRASE-unset} | path=$PATH" >> "${project}/pulumi-calls.log"
case "$*" in *"stack output"*)
  case "$STAND_IN_STACK" in
    missing) echo "error: no stack named 'dev' found" >&2; exit 255 ;;
    empty) echo "error: current stack does not have output property 'clientCredentials'" >&2; exit 255 ;;
  esac
  printf '%s\\n' '${JSON.stringify(OUTPUTS)}' ;;
esac
`;
}

/** The project as `npm ci` leaves it: the pulumi npm package and its launcher in node_modules/.bin. */
function installPulumiPackage(): void {
  mkdirSync(join(project, "node_modules/.bin"), { recursive: true });
  symlinkSync(join(REPO, "node_modules/pulumi"), join(project, "node_modules/pulumi"));
  symlinkSync("../pulumi/run.js", join(project, "node_modules/.bin/pulumi"));
}

const PACKAGE_VERSION = JSON.parse(readFileSync(join(REPO, "node_modules/pulumi/package.json"), "utf8"))
  .version as string;

const calls = () =>
  readFileSync(join(project, "pulumi-calls.log"), "utf8")
    .trim()
    .split("\n")
    .map((line) => line.replace(/^[a-z-]+: /, ""));
const callers = () =>
  readFileSync(join(project, "pulumi-calls.log"), "utf8")
    .trim()
    .split("\n")
    .map((line) => line.split(":")[0]);
const withoutStandIn = () => ({ ...env, PATH: `${dirname(process.execPath)}:/usr/bin:/bin` });
type Failure = { code: number; stdout: string; stderr: string };
const failureOf = (attempt: Promise<unknown>) =>
  attempt.then(
    () => {
      throw new Error("expected the script to fail");
    },
    (error: Failure) => error,
  );
const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);

describe("npm run up", () => {
  it("creates the dev stack on a file backend inside the project, with a generated 0600 passphrase", async () => {
    await run(join(project, "scripts/up.sh"), ["--yes"], { env });
    const passphrase = join(project, ".pulumi-passphrase");
    expect(mode(passphrase)).toBe("600");
    expect(readFileSync(passphrase, "utf8").trim().length).toBeGreaterThanOrEqual(40);
    const [select, up] = calls();
    expect(select).toMatch(/^stack select --create --secrets-provider passphrase dev \|/);
    expect(up).toMatch(/^up --stack dev --yes \|/);
    for (const call of calls()) {
      expect(call).toContain(`backend=file://${project}/.pulumi/state`);
      expect(call).toContain(`passfile=${passphrase}`);
      // An inherited empty or weak passphrase must not override the generated one.
      expect(call).toContain("pass=unset");
    }
  });

  it("keeps the passphrase across runs", async () => {
    await run(join(project, "scripts/up.sh"), [], { env });
    const first = readFileSync(join(project, ".pulumi-passphrase"), "utf8");
    await run(join(project, "scripts/up.sh"), [], { env });
    expect(readFileSync(join(project, ".pulumi-passphrase"), "utf8")).toBe(first);
  });

  it("stops in one line, before calling the CLI, on another machine's encryptionsalt in the stack file", async () => {
    writeFileSync(
      join(project, "Pulumi.dev.yaml"),
      "encryptionsalt: v1:c2FsdA==:v1:bm9uY2U=:Y2hlY2s=\nconfig: {}\n",
    );
    const error = await failureOf(run(join(project, "scripts/up.sh"), [], { env }));
    expect(error.code).toBe(2);
    expect(error.stderr.trim().split("\n")).toEqual([
      "up.sh: Pulumi.dev.yaml has an encryptionsalt: line but this project's state (.pulumi/) has no dev stack, so the salt belongs to another passphrase: delete that line (it is per machine, not part of the project) and run again",
    ]);
    expect(existsSync(join(project, "pulumi-calls.log"))).toBe(false);
  });

  it("goes ahead with an encryptionsalt once the project's state holds the stack", async () => {
    writeFileSync(
      join(project, "Pulumi.dev.yaml"),
      "encryptionsalt: v1:c2FsdA==:v1:bm9uY2U=:Y2hlY2s=\nconfig: {}\n",
    );
    // Where the CLI's file backend keeps a stack (project-scoped layout: .pulumi/stacks/<project>/<stack>.json).
    const stacks = join(project, ".pulumi/state/.pulumi/stacks/mtls-pki");
    mkdirSync(stacks, { recursive: true });
    writeFileSync(join(stacks, "dev.json"), "{}");
    await run(join(project, "scripts/up.sh"), ["--yes"], { env });
    expect(calls()[1]).toMatch(/^up --stack dev --yes \|/);
  });

  it("names the stacks there are when asked for one without a stack file", async () => {
    const attempt = run(join(project, "scripts/up.sh"), [], { env: { ...env, STACK: "qa" } });
    await expect(attempt).rejects.toMatchObject({
      stderr: expect.stringContaining("no stack file Pulumi.qa.yaml; stacks in this project: dev"),
    });
  });
});

describe("scripts/client-credentials.sh", () => {
  it("writes the client's certificate, key and CA bundle as 0600 files in a 0700 directory", async () => {
    const { stdout } = await run(join(project, "scripts/client-credentials.sh"), ["client-a"], { env });
    const dir = stdout.trim();
    expect(dir).toBe(join(project, ".credentials/dev/client-a"));
    expect(mode(dir)).toBe("700");
    expect(readFileSync(join(dir, "tls.key"), "utf8")).toBe(OUTPUTS["client-a"].keyPem);
    expect(readFileSync(join(dir, "tls.crt"), "utf8")).toBe("CERT-A\n");
    for (const file of ["tls.crt", "tls.key", "ca.crt"]) expect(mode(join(dir, file)), file).toBe("600");
    expect(calls()[0]).toMatch(/^stack output --stack dev --show-secrets --json clientCredentials/);
  });

  it("names the clients there are for an unknown one, printing no key", async () => {
    const attempt = run(join(project, "scripts/client-credentials.sh"), ["client-z"], { env });
    await expect(attempt).rejects.toMatchObject({
      stderr: expect.stringContaining('no client "client-z" in stack dev (clients: client-a)'),
    });
    await attempt.catch((error: { stderr: string; stdout: string }) => {
      expect(`${error.stdout}${error.stderr}`).not.toMatch(/PRIVATE KEY/);
    });
  });
});

describe("scripts/pulumi.sh: which Pulumi CLI", () => {
  it("prefers a pulumi on PATH to the npm package's CLI", async () => {
    installPulumiPackage();
    const cached = join(project, "pulumi-home/versions", PACKAGE_VERSION, "bin");
    mkdirSync(cached, { recursive: true });
    writeFileSync(join(cached, "pulumi"), standInCli("package"), { mode: 0o755 });
    // As inside `npm run up`: npm puts the package's launcher first on PATH; it must not count.
    await run(join(project, "scripts/pulumi.sh"), ["version"], {
      env: { ...env, PATH: `${join(project, "node_modules/.bin")}:${env.PATH}` },
    });
    expect(callers()).toEqual(["on-path"]);
  });

  it("runs the npm package's CLI from $PULUMI_HOME/versions/<version>/bin, with that folder on PATH", async () => {
    installPulumiPackage();
    const cached = join(project, "pulumi-home/versions", PACKAGE_VERSION, "bin");
    mkdirSync(cached, { recursive: true });
    writeFileSync(join(cached, "pulumi"), standInCli("package"), { mode: 0o755 });
    await run(join(project, "scripts/pulumi.sh"), ["preview", "--stack", "dev"], { env: withoutStandIn() });
    expect(callers()).toEqual(["package"]);
    const [call] = calls();
    expect(call).toMatch(/^preview --stack dev \|/);
    // The language host (pulumi-language-nodejs) ships next to the CLI and is found on PATH.
    expect(call).toContain(`path=${cached}:`);
  });

  it("fails in one line naming the offline route when the CLI cannot be downloaded", async () => {
    installPulumiPackage();
    // The package downloads with Node's fetch; pointing it at a closed loopback proxy is a machine
    // without internet access, without sending anything off this machine.
    const closed = await freePort();
    const error = await failureOf(
      run(join(project, "scripts/pulumi.sh"), ["up", "--stack", "dev"], {
        env: { ...withoutStandIn(), NODE_USE_ENV_PROXY: "1", HTTPS_PROXY: `http://127.0.0.1:${closed}` },
      }),
    );
    expect(error.code).toBe(1);
    const dir = join(project, "pulumi-home/versions", PACKAGE_VERSION, "bin");
    expect(error.stderr.trim().split("\n")).toEqual([
      `pulumi.sh: could not download the Pulumi CLI v${PACKAGE_VERSION} from get.pulumi.com (fetch failed); without internet access, place the CLI in ${dir} yourself (README: Offline), or put a pulumi on PATH`,
    ]);
    expect(existsSync(join(dir, "pulumi"))).toBe(false);
  });

  it("says to run npm ci when there is neither a pulumi on PATH nor the npm package", async () => {
    const error = await failureOf(run(join(project, "scripts/pulumi.sh"), ["up"], { env: withoutStandIn() }));
    expect(error.code).toBe(127);
    expect(error.stderr.trim()).toBe(
      "pulumi.sh: no Pulumi CLI: run 'npm ci' first (it installs the 'pulumi' npm package, which fetches the CLI on first use), or put a pulumi on PATH",
    );
  });
});

describe("scripts/client-credentials.sh when there is nothing to read", () => {
  const cases: [string, NodeJS.ProcessEnv | (() => NodeJS.ProcessEnv), string][] = [
    [
      "no Pulumi CLI",
      withoutStandIn,
      "client-credentials: cannot read the credentials of stack dev (pulumi.sh: no Pulumi CLI: run 'npm ci' first (it installs the 'pulumi' npm package, which fetches the CLI on first use), or put a pulumi on PATH)",
    ],
    [
      "a stack the backend does not have",
      { STAND_IN_STACK: "missing" },
      "client-credentials: cannot read the credentials of stack dev (no stack named 'dev' found); deploy it first: STACK=dev npm run up",
    ],
    [
      "a stack never deployed",
      { STAND_IN_STACK: "empty" },
      "client-credentials: cannot read the credentials of stack dev (current stack does not have output property 'clientCredentials'); deploy it first: STACK=dev npm run up",
    ],
  ];
  for (const [situation, extra, message] of cases) {
    it(`says so in one line and leaves no directory behind: ${situation}`, async () => {
      const environment = typeof extra === "function" ? extra() : { ...env, ...extra };
      const error = await failureOf(
        run(join(project, "scripts/client-credentials.sh"), ["client-a"], { env: environment }),
      );
      expect(error.code).toBe(1);
      expect(error.stderr.trim().split("\n")).toEqual([message]);
      expect(error.stdout).toBe("");
      expect(existsSync(join(project, ".credentials"))).toBe(false);
    });
  }

  it("leaves no directory behind for an unknown client either", async () => {
    await failureOf(run(join(project, "scripts/client-credentials.sh"), ["client-z"], { env }));
    expect(readdirSync(project)).not.toContain(".credentials");
  });
});
