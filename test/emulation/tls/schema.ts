/**
 * The tls plugin's schema as far as Check goes: type tokens, provider-side defaults, validators
 * with the Terraform Plugin Framework's wording (terraform-plugin-framework-validators), which
 * properties are secret, which changes are in-place updates, and which are write-only.
 */
import type { Inputs } from "../engine/provider.ts";
import { isUnknownValue } from "../engine/values.ts";
import { SUPPORTED_USES } from "./certificate.ts";
import { type CheckFailure, goQuote, ProviderCheckError } from "./errors.ts";
import { ALGORITHMS, ECDSA_CURVES } from "./keys.ts";

export const TYPES = {
  privateKey: "tls:index/privateKey:PrivateKey",
  selfSignedCert: "tls:index/selfSignedCert:SelfSignedCert",
  certRequest: "tls:index/certRequest:CertRequest",
  locallySignedCert: "tls:index/locallySignedCert:LocallySignedCert",
} as const;
export type TlsType = (typeof TYPES)[keyof typeof TYPES];

export interface TypeSpec {
  /** Sensitive attributes of the plugin schema (the SDK adds the same as additionalSecretOutputs). */
  secretOutputs: readonly string[];
  /** Properties whose change is an in-place update (everything else RequiresReplace). */
  inPlace: ReadonlySet<string>;
  /** Write-only inputs: never stored, never diffed. */
  writeOnly: ReadonlySet<string>;
  /** true for the certificates that carry validity and the ModifyPlan renewal rule. */
  renewable: boolean;
  defaults: Readonly<Inputs>;
}

const certDefaults = { earlyRenewalHours: 0, isCaCertificate: false, setSubjectKeyId: false };

export const SPECS: Record<TlsType, TypeSpec> = {
  [TYPES.privateKey]: {
    secretOutputs: ["privateKeyPem", "privateKeyPemPkcs8", "privateKeyOpenssh"],
    inPlace: new Set(),
    writeOnly: new Set(),
    renewable: false,
    defaults: { rsaBits: 2048, ecdsaCurve: "P224" },
  },
  [TYPES.selfSignedCert]: {
    secretOutputs: ["privateKeyPem", "privateKeyPemWo"],
    inPlace: new Set(["earlyRenewalHours"]),
    writeOnly: new Set(["privateKeyPemWo"]),
    renewable: true,
    defaults: { ...certDefaults, setAuthorityKeyId: false },
  },
  [TYPES.certRequest]: {
    secretOutputs: ["privateKeyPem", "privateKeyPemWo"],
    inPlace: new Set(),
    writeOnly: new Set(["privateKeyPemWo"]),
    renewable: false,
    defaults: {},
  },
  [TYPES.locallySignedCert]: {
    secretOutputs: ["caPrivateKeyPem", "caPrivateKeyPemWo"],
    inPlace: new Set(["earlyRenewalHours"]),
    writeOnly: new Set(["caPrivateKeyPemWo"]),
    renewable: true,
    defaults: certDefaults,
  },
};

export function isTlsType(type: string): type is TlsType {
  return Object.hasOwn(SPECS, type);
}

/** Provider defaults for unset (null/undefined) properties; unknowns are left alone. */
export function withDefaults(type: TlsType, inputs: Inputs): Inputs {
  const out: Inputs = { ...inputs };
  for (const [k, v] of Object.entries(SPECS[type].defaults)) {
    if (out[k] === undefined || out[k] === null) out[k] = v;
  }
  return out;
}

function snake(property: string): string {
  return property.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

const known = (v: unknown) => v !== undefined && v !== null && !isUnknownValue(v);

class Checker {
  readonly failures: CheckFailure[] = [];
  private readonly inputs: Inputs;
  constructor(inputs: Inputs) {
    this.inputs = inputs;
  }

  oneOf(property: string, values: readonly string[]): void {
    const v = this.inputs[property];
    if (known(v) && !values.includes(String(v)))
      this.oneOfFailure(property, snake(property), values, String(v));
  }

  private oneOfFailure(property: string, tfPath: string, values: readonly string[], got: string): void {
    this.failures.push({
      property,
      summary: "Invalid Attribute Value Match",
      detail: `Attribute ${tfPath} value must be one of: [${values.map(goQuote).join(" ")}], got: ${goQuote(got)}`,
    });
  }

  eachOneOf(property: string, values: readonly string[]): void {
    const list = this.inputs[property];
    if (!Array.isArray(list)) return;
    list.forEach((item, i) => {
      if (known(item) && !values.includes(String(item))) {
        this.oneOfFailure(`${property}[${i}]`, `${snake(property)}[${i}]`, values, String(item));
      }
    });
  }

  eachMinLength(property: string, min: number): void {
    const list = this.inputs[property];
    if (!Array.isArray(list)) return;
    list.forEach((item, i) => {
      if (known(item) && String(item).length < min) {
        this.failures.push({
          property: `${property}[${i}]`,
          summary: "Invalid Attribute Value Length",
          detail: `Attribute ${snake(property)}[${i}] string length must be at least ${min}, got: ${String(item).length}`,
        });
      }
    });
  }

  atLeast(property: string, min: number): void {
    const v = this.inputs[property];
    if (known(v) && Number(v) < min) {
      this.failures.push({
        property,
        summary: "Invalid Attribute Value",
        detail: `Attribute ${snake(property)} value must be at least ${min}, got: ${Number(v)}`,
      });
    }
  }

  required(property: string): void {
    if (this.inputs[property] === undefined || this.inputs[property] === null) {
      this.failures.push({
        property,
        summary: "Missing required argument",
        detail: `The argument "${snake(property)}" is required, but no definition was found.`,
      });
    }
  }

  /**
   * "Exactly one of `x` or `xWo` must be set" (5.6.x write-only keys). The exact validator the
   * 5.6.1 plugin uses is not in any source read; this is the framework's ExactlyOneOf wording.
   */
  exactlyOneOf(a: string, b: string): void {
    const va = this.inputs[a];
    const vb = this.inputs[b];
    if (isUnknownValue(va) || isUnknownValue(vb)) return;
    const configured = [a, b].filter((p) => known(this.inputs[p]));
    const description = `Exactly one of these attributes must be configured: [${snake(a)},${snake(b)}]`;
    if (configured.length > 1) {
      this.failures.push({
        property: configured[0] ?? a,
        summary: "Invalid Attribute Combination",
        detail: description,
      });
    } else if (configured.length === 0) {
      this.failures.push({ property: "", summary: "Missing Attribute Configuration", detail: description });
    }
  }

  /** "Requires `xWoVersion` to be set" (SDK doc); AlsoRequires wording, [UNCONFIRMED] text. */
  alsoRequires(property: string, other: string): void {
    if (known(this.inputs[property]) && !known(this.inputs[other]) && !isUnknownValue(this.inputs[other])) {
      this.failures.push({
        property,
        summary: "Invalid Attribute Combination",
        detail: `Attribute ${JSON.stringify(snake(other))} must be specified when ${JSON.stringify(snake(property))} is specified`,
      });
    }
  }
}

/**
 * Check: validates (throwing the plugin's failures) and returns the inputs with provider defaults.
 * Only validators are run here; errors the plugin raises in Create (bad IPs, CA without subject,
 * key mismatch, ...) are raised by the create step, so they do not show in a preview.
 */
export function check(type: TlsType, name: string, inputs: Inputs): Inputs {
  const c = new Checker(inputs);
  switch (type) {
    case TYPES.privateKey:
      c.required("algorithm");
      c.oneOf("algorithm", ALGORITHMS);
      c.oneOf("ecdsaCurve", ECDSA_CURVES);
      break;
    case TYPES.selfSignedCert:
    case TYPES.locallySignedCert: {
      if (type === TYPES.selfSignedCert) {
        c.exactlyOneOf("privateKeyPem", "privateKeyPemWo");
        c.alsoRequires("privateKeyPemWo", "privateKeyPemWoVersion");
        c.eachMinLength("ipAddresses", 1);
        c.eachMinLength("uris", 1);
      } else {
        c.required("certRequestPem");
        c.required("caCertPem");
        c.exactlyOneOf("caPrivateKeyPem", "caPrivateKeyPemWo");
        c.alsoRequires("caPrivateKeyPemWo", "caPrivateKeyPemWoVersion");
      }
      c.required("validityPeriodHours");
      c.required("allowedUses");
      c.atLeast("validityPeriodHours", 0);
      c.eachOneOf("allowedUses", SUPPORTED_USES);
      c.atLeast("earlyRenewalHours", 0);
      c.atLeast("maxPathLength", -1);
      break;
    }
    case TYPES.certRequest:
      c.exactlyOneOf("privateKeyPem", "privateKeyPemWo");
      c.alsoRequires("privateKeyPemWo", "privateKeyPemWoVersion");
      c.eachMinLength("ipAddresses", 1);
      c.eachMinLength("uris", 1);
      break;
  }
  if (c.failures.length > 0) throw new ProviderCheckError(type, name, c.failures);
  return withDefaults(type, inputs);
}
