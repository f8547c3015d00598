/**
 * The user-facing scripts around the Pulumi CLI: npm run up (scripts/up.sh), scripts/pulumi.sh and
 * scripts/client-credentials.sh. The Pulumi CLI cannot be installed here, so a stand-in `pulumi`
 * on PATH records how it was called and answers `stack output` like the real one (JSON on stdout);
 * everything else (backend, passphrase file and its mode, files written) is real.
 */
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

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
  for (const script of ["pulumi.sh", "up.sh", "client-credentials.sh", "provision-node.sh"]) {
    cpSync(join(REPO, "scripts", script), join(project, "scripts", script));
  }
  writeFileSync(join(project, "Pulumi.dev.yaml"), "config: {}\n");
  const bin = join(project, "bin");
  mkdirSync(bin);
  // The stand-in CLI: logs its arguments and the environment the wrapper gave it.
  writeFileSync(
    join(bin, "pulumi"),
    `#!/bin/sh
echo "$* | backend=$PULUMI_BACKEND_URL | passfile=$PULUMI_CONFIG_PASSPHRASE_FILE | pass=\${PULUMI_CONFIG_PASSPHRASE-unset}" >> "${project}/pulumi-calls.log"
case "$*" in *"stack output"*) printf '%s\\n' '${JSON.stringify(OUTPUTS)}' ;; esac
`,
    { mode: 0o755 },
  );
  env = {
    ...process.env,
    PATH: `${bin}:${process.env.PATH}`,
    PULUMI_CONFIG_PASSPHRASE: "from-the-environment",
  };
});
afterEach(() => rmSync(project, { recursive: true, force: true }));

const calls = () => readFileSync(join(project, "pulumi-calls.log"), "utf8").trim().split("\n");
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

  it("names the stacks there are when asked for one without a stack file", async () => {
    const attempt = run(join(project, "scripts/up.sh"), [], { env: { ...env, STACK: "qa" } });
    await expect(attempt).rejects.toMatchObject({
      stderr: expect.stringContaining("no stack file Pulumi.qa.yaml; stacks here: dev"),
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
      stderr: expect.stringContaining('no client "client-z" in this stack (clients: client-a)'),
    });
    await attempt.catch((error: { stderr: string; stdout: string }) => {
      expect(`${error.stdout}${error.stderr}`).not.toMatch(/PRIVATE KEY/);
    });
  });
});
