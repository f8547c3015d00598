/**
 * Where private keys may go. A key belongs in a file delivered to the one workload that uses it
 * (a container upload, a swarm secret), readable by that workload's user only. Everywhere else it
 * is plaintext: a container's environment, command and labels are shown by `docker inspect` and
 * stored unencrypted by Docker, image build arguments stay in the image's history, and a stack
 * output that is not a secret is written to the state (and printed by `pulumi stack output`) as
 * it is.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { configWith, message } from "../lib/define";
import { keyUploadReason, looksLikeKeyFile, secretCarriesKey, uploadsOf } from "../lib/key-carriers";
import { isPrivateKeyText } from "../lib/key-material";
import { isSecretAt, secretTracking } from "../lib/secrets";
import { describe, keyDependencies, StackIndex, type StackResource } from "../lib/stack-graph";
import { DOCKER, STACK_TYPE } from "../lib/types";
import { asList, asObject, isUnknown, knownNumber, plain, stringsIn } from "../lib/values";

/** The one property of each type that is meant to carry a key (delivered as a file). */
const DELIVERY_PROPERTIES: Record<string, readonly string[]> = {
  [DOCKER.container]: ["uploads"],
  [DOCKER.secret]: ["data"],
};

export const keyInRuntimeConfig: StackValidationPolicy = {
  name: "private-key-in-runtime-config",
  description:
    "No private key reaches a container's or service's settings (envs, command, labels, image build args, ...): only a file delivery (container uploads, a swarm secret's data) may carry it.",
  enforcementLevel: "mandatory",
  remediationSteps:
    "Deliver the key as a file (docker.Container uploads with permissions 0400 and the service's uid as owner, or a docker.Secret mounted with fileMode 0400) and pass the service its path (MTLS_KEY_FILE).",
  configSchema: {
    properties: {
      packages: {
        type: "array",
        items: { type: "string" },
        default: ["docker"],
        description: "Providers whose resources run workloads (the first part of a type token, e.g. docker).",
      },
    },
  },
  validateStack: (args, report) => {
    const { packages } = configWith(args, { packages: ["docker"] });
    const index = new StackIndex(args.resources);
    for (const r of index.all.filter((res) => packages.includes(res.type.split(":")[0] ?? ""))) {
      const allowed = DELIVERY_PROPERTIES[r.type] ?? [];
      const properties = new Set([
        ...Object.keys(r.resource.propertyDependencies ?? {}),
        ...Object.keys(r.props),
      ]);
      for (const property of [...properties].filter((p) => !allowed.includes(p)).sort()) {
        const keys = keyDependencies(r, property);
        const problem =
          keys.length > 0
            ? `${property} of ${describe(r)} is computed from the private key ${keys.map((k) => `"${k.name}"`).join(", ")}`
            : stringsIn(r.props[property]).some(isPrivateKeyText)
              ? `${property} of ${describe(r)} holds a private key`
              : undefined;
        if (!problem) continue;
        report(
          message({
            problem: `${problem}, which Docker keeps and shows in plaintext (docker inspect, the image history)`,
            fix:
              r.type === DOCKER.service
                ? "mount the key from a docker.Secret (taskSpec.containerSpec.secrets, fileMode 0400) and pass only its path"
                : "deliver the key as an upload (permissions 0400, owner the service's uid) and pass only its path",
          }),
          r.urn,
        );
      }
    }
  },
};

/** Paths (below one output) of known strings that hold a private key. */
function keyPaths(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (typeof value === "string") return !isUnknown(value) && isPrivateKeyText(value) ? [path] : [];
  if (Array.isArray(value)) return value.flatMap((item, i) => keyPaths(item, [...path, i]));
  const object = asObject(value);
  return object ? Object.entries(object).flatMap(([k, item]) => keyPaths(item, [...path, k])) : [];
}

export const keyInStackOutput: StackValidationPolicy = {
  name: "private-key-in-stack-output",
  description:
    "A stack output that holds a private key is a secret (else the state and `pulumi stack output` show the key in plaintext).",
  enforcementLevel: "mandatory",
  remediationSteps:
    "Export the key through pulumi.secret(...) (outputs derived from tls.PrivateKey's privateKeyPem are secret unless pulumi.unsecret or a plain copy dropped that).",
  validateStack: (args, report) => {
    const index = new StackIndex(args.resources);
    for (const stack of index.ofType(STACK_TYPE)) {
      for (const [name, value] of Object.entries(stack.props)) {
        for (const path of keyPaths(value)) {
          const at = [name, ...path];
          if (secretTracking() && isSecretAt(stack.props, at)) continue;
          report(
            message({
              problem: secretTracking()
                ? `stack output ${at.join(".")} holds a private key and is not a secret`
                : `stack output ${at.join(".")} holds a private key, and this version of @pulumi/policy does not tell whether it is a secret`,
              fix: secretTracking()
                ? `export it as pulumi.secret(...)`
                : "install the @pulumi/policy version the pack's package.json pins",
            }),
            stack.urn,
          );
        }
      }
    }
  },
};

/** Modes the provider writes: `permissions` (octal text), else 0744 for `executable`, else 0644. */
function uploadMode(entry: Record<string, unknown>): number | undefined {
  const permissions = entry.permissions;
  if (isUnknown(permissions) || isUnknown(entry.executable)) return undefined;
  if (typeof permissions === "string" && permissions !== "") return Number.parseInt(permissions, 8);
  return entry.executable === true ? 0o744 : 0o644;
}

const octal = (mode: number) => `0${mode.toString(8).padStart(3, "0")}`;
/** Wider than 0400: any permission bit but the owner's read. */
const widerThanOwnerRead = (mode: number) => (mode & ~0o400 & 0o7777) !== 0;
const isRoot = (user: unknown) =>
  user === undefined || user === null || user === "" || user === "0" || user === "root";

export const keyUploadPermissions: ResourceValidationPolicy = {
  name: "private-key-upload-permissions",
  description:
    "A private key uploaded into a container (docker.Container uploads) has mode 0400 or stricter and belongs to the service's user, not root.",
  enforcementLevel: "mandatory",
  remediationSteps:
    'Give the key upload permissions: "0400" and owner/group set to the service\'s numeric uid/gid (e.g. "10001"); without an owner the file is 0:0 and every other user of a wider mode can read it.',
  validateResource: (args, report) => {
    if (args.type !== DOCKER.container) return;
    const props = plain(args.props);
    if (isUnknown(props.uploads)) return;
    for (const upload of uploadsOf(props)) {
      const reason = keyUploadReason(props, upload);
      if (!reason) continue;
      const problems: string[] = [];
      const mode = uploadMode(upload.entry);
      if (mode !== undefined && widerThanOwnerRead(mode)) {
        problems.push(
          `mode ${octal(mode)}${upload.entry.permissions ? "" : " (permissions not set: the provider's default)"}`,
        );
      }
      const owner = upload.entry.owner;
      if (!isUnknown(owner) && isRoot(owner))
        problems.push(owner ? `owner ${owner}` : "no owner (the file is 0:0, root's)");
      if (problems.length === 0) continue;
      report(
        message({
          problem: `upload ${upload.file} (${reason}) has ${problems.join(" and ")}`,
          fix: 'set permissions: "0400" and owner/group to the service\'s numeric uid/gid',
        }),
      );
    }
  },
};

interface SecretMount {
  entry: Record<string, unknown>;
  file: string;
}

function secretMounts(service: StackResource): SecretMount[] {
  const spec = asObject(asObject(service.props.taskSpec)?.containerSpec);
  return asList(spec?.secrets).flatMap((item) => {
    const entry = asObject(item);
    if (!entry) return [];
    const file =
      typeof entry.fileName === "string" && !isUnknown(entry.fileName) ? entry.fileName : "(unknown file)";
    return [{ entry, file }];
  });
}

/** The docker.Secret a mount refers to (by id, or by name: autonamed secrets have theirs at preview). */
function mountedSecret(mount: SecretMount, secrets: StackResource[]): StackResource | undefined {
  const { secretId, secretName } = mount.entry;
  return secrets.find(
    (s) =>
      (typeof secretId === "string" && !isUnknown(secretId) && secretId === s.props.id) ||
      (typeof secretName === "string" && !isUnknown(secretName) && secretName === s.props.name),
  );
}

export const keySecretMountPermissions: StackValidationPolicy = {
  name: "private-key-secret-mount-permissions",
  description:
    "A swarm secret that holds a private key is mounted with fileMode 0400 or stricter and a non-root fileUid (docker.Service taskSpec.containerSpec.secrets).",
  enforcementLevel: "mandatory",
  remediationSteps:
    'Mount the key secret with fileMode: 0o400 and fileUid/fileGid set to the service\'s numeric uid/gid (e.g. "10001"); the defaults are 0444 and root.',
  validateStack: (args, report) => {
    const index = new StackIndex(args.resources);
    const secrets = index.ofType(DOCKER.secret);
    const keySecrets = secrets.filter(secretCarriesKey);
    for (const service of index.ofType(DOCKER.service)) {
      for (const mount of secretMounts(service)) {
        const target = mountedSecret(mount, secrets);
        const isKey = target ? keySecrets.includes(target) : looksLikeKeyFile(mount.entry.fileName);
        if (!isKey) continue;
        const problems: string[] = [];
        if (!isUnknown(mount.entry.fileMode)) {
          // The provider's default mode is 0444.
          const mode = knownNumber(mount.entry.fileMode) ?? 0o444;
          if (widerThanOwnerRead(mode)) problems.push(`fileMode ${octal(mode)}`);
        }
        const uid = mount.entry.fileUid;
        if (!isUnknown(uid) && isRoot(uid)) problems.push(uid ? `fileUid ${uid}` : "no fileUid (root's)");
        if (problems.length === 0) continue;
        report(
          message({
            problem: `${describe(service)} mounts the private key ${target ? describe(target) : "secret"} at ${mount.file} with ${problems.join(" and ")}`,
            fix: 'set fileMode: 0o400 and fileUid/fileGid to the service\'s numeric uid/gid (e.g. "10001")',
          }),
          service.urn,
        );
      }
    }
  },
};
