/**
 * The tools the benchmark drives, installed from Debian's packages when missing (apt-get, as root),
 * and a description of the machine and of every version involved, for the report.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { ECHO_MODULE } from "../servers/nginx-config.ts";

interface Requirement {
  /** A command on PATH (or in /usr/sbin), or an absolute file path. */
  needs: string;
  debianPackage: string;
}

const REQUIREMENTS: Requirement[] = [
  { needs: "nginx", debianPackage: "nginx-light" },
  { needs: ECHO_MODULE, debianPackage: "libnginx-mod-http-echo" },
  { needs: "ab", debianPackage: "apache2-utils" },
  { needs: "openssl", debianPackage: "openssl" },
  // The proxy benchmarks' second peer (bench/proxy/); a bench prerequisite, not a test one.
  { needs: "haproxy", debianPackage: "haproxy" },
  { needs: "taskset", debianPackage: "util-linux" },
];

function present(needs: string): boolean {
  if (needs.startsWith("/")) return existsSync(needs);
  return spawnSync("sh", ["-c", `command -v ${needs} || test -x /usr/sbin/${needs}`]).status === 0;
}

function sh(command: string): string {
  const result = spawnSync("sh", ["-c", command], { encoding: "utf8" });
  return `${result.stdout ?? ""}${result.stderr ?? ""}`.trim();
}

/** Installs what is missing; returns what it installed (for the report). */
export function ensureTools(log: (line: string) => void): string[] {
  const missing = REQUIREMENTS.filter((requirement) => !present(requirement.needs));
  if (missing.length === 0) return [];
  const packages = [...new Set(missing.map((requirement) => requirement.debianPackage))];
  if (process.getuid?.() !== 0) {
    throw new Error(
      `missing ${missing.map((m) => m.needs).join(", ")}; install them with: sudo apt-get install -y ${packages.join(" ")}`,
    );
  }
  log(`installing ${packages.join(", ")} with apt-get (missing: ${missing.map((m) => m.needs).join(", ")})`);
  const install = () =>
    spawnSync("apt-get", ["install", "-y", "--no-install-recommends", ...packages], {
      stdio: "inherit",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    }).status;
  if (install() !== 0) {
    spawnSync("apt-get", ["update"], { stdio: "inherit" });
    if (install() !== 0) throw new Error(`apt-get could not install ${packages.join(" ")}`);
  }
  const still = missing.filter((requirement) => !present(requirement.needs));
  if (still.length > 0)
    throw new Error(`still missing after apt-get: ${still.map((m) => m.needs).join(", ")}`);
  return packages;
}

export interface MachineDescription {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  os: string;
  versions: Record<string, string>;
}

function packageVersion(name: string): string {
  return sh(`dpkg-query -W -f='\${Version}' ${name} 2>/dev/null`) || "not a Debian package here";
}

export function describeMachine(): MachineDescription {
  const osRelease = readFileSync("/etc/os-release", "utf8");
  const nginxV = sh("nginx -V");
  // Debian's nginx may run with a newer OpenSSL than it was built with; the running one matters.
  const nginxOpenssl =
    /running with (OpenSSL [^\s)]+)/.exec(nginxV)?.[1] ??
    /built with (OpenSSL [^\s]+)/.exec(nginxV)?.[1] ??
    "unknown";
  return {
    cpuModel: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: sh("uname -r"),
    os: /^PRETTY_NAME="?([^"\n]*)/m.exec(osRelease)?.[1] ?? "unknown",
    versions: {
      node: process.version,
      "node's OpenSSL": process.versions.openssl,
      nginx: `${sh("nginx -v").replace("nginx version: ", "")} (Debian ${packageVersion("nginx-light")})`,
      "nginx's OpenSSL": nginxOpenssl,
      "nginx echo module": `Debian libnginx-mod-http-echo ${packageVersion("libnginx-mod-http-echo")}`,
      haproxy: `${/version ([^\s]+)/.exec(sh("haproxy -v"))?.[1] ?? "unknown"} (Debian ${packageVersion("haproxy")})`,
      "openssl (s_time)": sh("openssl version"),
      ab: `${/Version ([^\s]+)/.exec(sh("ab -V"))?.[1] ?? "unknown"} (Debian apache2-utils ${packageVersion("apache2-utils")})`,
    },
  };
}
