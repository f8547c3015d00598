/**
 * The seed tutorial's PKI, made with its exact openssl commands. They sign with `-sha1` and pass
 * `-extensions` without `-extfile` (which adds nothing), so the certificates are X.509 v1 with a
 * subject of C/ST/L/O/OU/CN only: no SAN, no EKU, no basic constraints. `hash: "sha256"` runs the
 * same commands with `-sha256` in place of `-sha1`.
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface TutorialPki {
  dir: string;
  caCertPem: string;
  server: { certPem: string; keyPem: string };
  client: { certPem: string; keyPem: string };
}

const SUBJECT = "/C=CN/ST=myprovince/L=mycity/O=myorganization/OU=mygroup";

async function openssl(dir: string, args: string[]): Promise<void> {
  try {
    await run("openssl", args, { cwd: dir });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    throw new Error(`openssl ${args.join(" ")} failed in ${dir}: ${stderr.trim()}`);
  }
}

/** Runs the tutorial's recipe in `dir` (which must exist and be empty). */
export async function makeTutorialPki(dir: string, hash: "sha1" | "sha256"): Promise<TutorialPki> {
  const digest = `-${hash}`;
  await openssl(dir, ["genrsa", "-out", "cakey.pem", "2048"]);
  await openssl(dir, ["req", "-new", "-key", "cakey.pem", "-out", "ca.csr", "-subj", `${SUBJECT}/CN=myCA`]);
  await openssl(dir, [
    "x509",
    "-req",
    "-days",
    "365",
    digest,
    "-extensions",
    "v3_ca",
    "-signkey",
    "cakey.pem",
    "-in",
    "ca.csr",
    "-out",
    "cacert.pem",
  ]);
  for (const [role, commonName] of [
    ["server", "myServer"],
    ["client", "myClient"],
  ] as const) {
    await openssl(dir, ["genrsa", "-out", `${role}key.pem`, "2048"]);
    await openssl(dir, [
      "req",
      "-new",
      "-key",
      `${role}key.pem`,
      "-out",
      `${role}.csr`,
      "-subj",
      `${SUBJECT}/CN=${commonName}`,
    ]);
    await openssl(dir, [
      "x509",
      "-req",
      "-days",
      "365",
      digest,
      "-extensions",
      "v3_req",
      "-CA",
      "cacert.pem",
      "-CAkey",
      "cakey.pem",
      "-CAserial",
      "ca.srl",
      "-CAcreateserial",
      "-in",
      `${role}.csr`,
      "-out",
      `${role}cert.pem`,
    ]);
  }
  const read = (name: string) => readFile(join(dir, name), "utf8");
  return {
    dir,
    caCertPem: await read("cacert.pem"),
    server: { certPem: await read("servercert.pem"), keyPem: await read("serverkey.pem") },
    client: { certPem: await read("clientcert.pem"), keyPem: await read("clientkey.pem") },
  };
}
