/**
 * The tools the benchmark drives, installed from Debian's packages when missing (apt-get, as root),
 * and a description of the machine and of every version involved, for the report.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { ECHO_MODULE } from "../servers/nginx-config.ts";

/** What each needs: a command on PATH (or in /usr/sbin), or an absolute file path; its package. */
const REQUIREMENTS = [
  ["nginx", "nginx-light"],
  [ECHO_MODULE, "libnginx-mod-http-echo"],
  ["ab", "apache2-utils"],
  ["openssl", "openssl"],
  // The proxy benchmarks' second peer (bench/proxy/); a bench prerequisite, not a test one.
  ["haproxy", "haproxy"],
  ["taskset", "util-linux"],
] as const;

const present = (needs: string) =>
  needs.startsWith("/")
    ? existsSync(needs)
    : spawnSync("sh", ["-c", `command -v ${needs} || test -x /usr/sbin/${needs}`]).status === 0;

function sh(command: string): string {
  const result = spawnSync("sh", ["-c", command], { encoding: "utf8" });
  return `${result.stdout ?? ""}${result.stderr ?? ""}`.trim();
}

/** Installs what is missing; returns what it installed (for the report). */
export function ensureTools(log: (line: string) => void): string[] {
  const missing = REQUIREMENTS.filter(([needs]) => !present(needs));
  if (missing.length === 0) return [];
  const needs = missing.map(([what]) => what).join(", ");
  const packages = [...new Set(missing.map(([, debian]) => debian))];
  if (process.getuid?.() !== 0)
    throw new Error(`missing ${needs}; install them with: sudo apt-get install -y ${packages.join(" ")}`);
  log(`installing ${packages.join(", ")} with apt-get (missing: ${needs})`);
  const [stdio, env] = ["inherit" as const, { ...process.env, DEBIAN_FRONTEND: "noninteractive" }];
  const install = () =>
    spawnSync("apt-get", ["install", "-y", "--no-install-recommends", ...packages], { stdio, env }).status;
  if (install() !== 0) {
    spawnSync("apt-get", ["update"], { stdio });
    if (install() !== 0) throw new Error(`apt-get could not install ${packages.join(" ")}`);
  }
  const still = missing.flatMap(([what]) => (present(what) ? [] : [what]));
  if (still.length > 0) throw new Error(`still missing after apt-get: ${still.join(", ")}`);
  return packages;
}

export type MachineDescription = ReturnType<typeof describeMachine>;

const packageVersion = (name: string) =>
  sh(`dpkg-query -W -f='\${Version}' ${name} 2>/dev/null`) || "not a Debian package here";

export function describeMachine() {
  const nginxV = sh("nginx -V");
  const versionIn = (pattern: RegExp, text: string) => pattern.exec(text)?.[1] ?? "unknown";
  return {
    cpuModel: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: sh("uname -r"),
    os: versionIn(/^PRETTY_NAME="?([^"\n]*)/m, readFileSync("/etc/os-release", "utf8")),
    versions: {
      node: process.version,
      "node's OpenSSL": process.versions.openssl,
      nginx: `${sh("nginx -v").replace("nginx version: ", "")} (Debian ${packageVersion("nginx-light")})`,
      // Debian's nginx may run with a newer OpenSSL than it was built with; the running one matters.
      "nginx's OpenSSL":
        /running with (OpenSSL [^\s)]+)/.exec(nginxV)?.[1] ??
        versionIn(/built with (OpenSSL [^\s]+)/, nginxV),
      "nginx echo module": `Debian libnginx-mod-http-echo ${packageVersion("libnginx-mod-http-echo")}`,
      haproxy: `${versionIn(/version ([^\s]+)/, sh("haproxy -v"))} (Debian ${packageVersion("haproxy")})`,
      "openssl (s_time)": sh("openssl version"),
      ab: `${versionIn(/Version ([^\s]+)/, sh("ab -V"))} (Debian apache2-utils ${packageVersion("apache2-utils")})`,
    } as Record<string, string>,
  };
}
