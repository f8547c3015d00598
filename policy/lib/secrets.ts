/**
 * Which property values were secrets when the engine sent them.
 *
 * The engine sends secrets to a policy pack wrapped (`{ <sig>: <secret sig>, value }`), but
 * @pulumi/policy unwraps them before any policy runs, so a policy cannot tell a secret from a
 * plain value (pulumi/pulumi-policy#241, open; the CrossGuard FAQ says secrets reach policies
 * unencrypted). Two rules here need that difference: a key in a stack output is only a leak when
 * the output is not secret, and an upload whose content is secret is held to the key-file rules.
 *
 * So this module wraps @pulumi/policy's own `deserializeProperties` (the one function its server
 * calls, through its module object, for every resource it hands to a policy) and records, for each
 * object it returns, the paths that were secret on the wire. It relies on @pulumi/policy's
 * internals (`deserialize.js`, `server.js` of the exact version package.json pins); the test of the
 * pack through its real analyzer (test/policy/) fails when they change, and `secretTracking()`
 * says whether the wrap is in place so that a policy depending on it fails closed without it.
 */

type Path = readonly (string | number)[];

interface StructLike {
  toJavaScript(): unknown;
}

type Deserialize = (struct: StructLike, proxySecrets: boolean) => Record<string, unknown>;

/** The engine's secret signature (`specialSigKey` / `specialSecretSig` of @pulumi/pulumi's runtime/rpc). */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

const secretPathsOf = new WeakMap<object, ReadonlySet<string>>();
let active = false;

const key = (path: Path) => JSON.stringify(path);

function collect(value: unknown, path: (string | number)[], into: Set<string>): void {
  if (value === null || typeof value !== "object") return;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) collect(item, [...path, i], into);
    return;
  }
  const record = value as Record<string, unknown>;
  if (record[SIG_KEY] === SECRET_SIG) {
    into.add(key(path));
    collect(record.value, path, into);
    return;
  }
  for (const [k, item] of Object.entries(record)) collect(item, [...path, k], into);
}

function install(): boolean {
  let module: { deserializeProperties?: unknown };
  try {
    module = require("@pulumi/policy/deserialize");
  } catch {
    return false;
  }
  const original = module.deserializeProperties;
  if (typeof original !== "function") return false;
  const deserialize = original as Deserialize;
  const tracking: Deserialize = (struct, proxySecrets) => {
    const result = deserialize(struct, proxySecrets);
    try {
      const paths = new Set<string>();
      collect(struct.toJavaScript(), [], paths);
      if (result !== null && typeof result === "object") secretPathsOf.set(result, paths);
    } catch {
      // Recording is best effort; the deserialized value is what the policies need first.
    }
    return result;
  };
  module.deserializeProperties = tracking;
  return true;
}

active = install();

/** Whether secret paths are being recorded (false: @pulumi/policy changed its internals). */
export function secretTracking(): boolean {
  return active;
}

/**
 * Whether the value at `path` of these plain properties (see values.ts `plain`) was a secret, or
 * sat inside one. Properties not deserialized by @pulumi/policy (none are, in a running pack)
 * have no recorded secrets.
 */
export function isSecretAt(props: object, path: Path): boolean {
  const paths = secretPathsOf.get(props);
  if (!paths) return false;
  for (let n = 0; n <= path.length; n++) {
    if (paths.has(key(path.slice(0, n)))) return true;
  }
  return false;
}

/** Whether anything at or below `path` was a secret. */
export function containsSecretAt(props: object, path: Path): boolean {
  const paths = secretPathsOf.get(props);
  if (!paths) return false;
  if (isSecretAt(props, path)) return true;
  if (path.length === 0) return paths.size > 0;
  // '["uploads",1]' -> children start with '["uploads",1,' (not '["uploads",10').
  const prefix = `${key(path).slice(0, -1)},`;
  for (const p of paths) if (p.startsWith(prefix)) return true;
  return false;
}
