/**
 * The tls plugin's schema, reduced to what the program uses: the four resource types, the inputs
 * each one emulates (any other input is refused, not ignored), the provider-side defaults, the
 * validators with the plugin's wording, which outputs are secret, and which changes are in-place
 * updates (docs/PROVIDER-FACTS.md, "tls").
 */
import type { Inputs } from "../engine/provider.ts";
import { isUnknownValue } from "../engine/values.ts";

export const TYPES = {
  privateKey: "tls:index/privateKey:PrivateKey",
  selfSignedCert: "tls:index/selfSignedCert:SelfSignedCert",
  certRequest: "tls:index/certRequest:CertRequest",
  locallySignedCert: "tls:index/locallySignedCert:LocallySignedCert",
} as const;
export type TlsType = (typeof TYPES)[keyof typeof TYPES];

/** Key usages (RFC 5280 bit numbers) and extended key usages (OIDs), by their snake_case names. */
export const KEY_USAGE_BITS: Record<string, number> = {
  digital_signature: 0,
  content_commitment: 1,
  key_encipherment: 2,
  data_encipherment: 3,
  key_agreement: 4,
  cert_signing: 5,
  crl_signing: 6,
  encipher_only: 7,
  decipher_only: 8,
};
export const EXT_KEY_USAGES: Record<string, string> = {
  any_extended: "2.5.29.37.0",
  server_auth: "1.3.6.1.5.5.7.3.1",
  client_auth: "1.3.6.1.5.5.7.3.2",
  code_signing: "1.3.6.1.5.5.7.3.3",
  email_protection: "1.3.6.1.5.5.7.3.4",
  ipsec_end_system: "1.3.6.1.5.5.7.3.5",
  ipsec_tunnel: "1.3.6.1.5.5.7.3.6",
  ipsec_user: "1.3.6.1.5.5.7.3.7",
  timestamping: "1.3.6.1.5.5.7.3.8",
  ocsp_signing: "1.3.6.1.5.5.7.3.9",
  microsoft_server_gated_crypto: "1.3.6.1.4.1.311.10.3.3",
  netscape_server_gated_crypto: "2.16.840.1.113730.4.1",
  microsoft_commercial_code_signing: "1.3.6.1.4.1.311.2.1.22",
  microsoft_kernel_code_signing: "1.3.6.1.4.1.311.61.1.1",
};
/** Sorted, as the plugin's validator prints them. */
const SUPPORTED_USES = [...Object.keys(KEY_USAGE_BITS), ...Object.keys(EXT_KEY_USAGES)].sort();

/** The `subject` fields emulated, in the order Go encodes them (C, ST, L, O, OU, CN). */
export const SUBJECT_FIELDS = {
  country: "C",
  province: "ST",
  locality: "L",
  organization: "O",
  organizationalUnit: "OU",
  commonName: "CN",
} as const;

interface TypeSpec {
  /** The inputs emulated; anything else is refused. */
  inputs: readonly string[];
  required: readonly string[];
  defaults: Readonly<Inputs>;
  /** The plugin's sensitive attributes (the SDK's additionalSecretOutputs). */
  secretOutputs: readonly string[];
  /** Inputs whose change is an in-place update (every other change replaces). */
  inPlace: readonly string[];
  /** Certificates: validity, readyForRenewal and the renewal-window replacement. */
  renewable: boolean;
}

const NAMES = ["subject", "dnsNames", "ipAddresses", "uris"];
const CERT = ["allowedUses", "validityPeriodHours", "earlyRenewalHours", "isCaCertificate", "maxPathLength"];
const CERT_DEFAULTS = { earlyRenewalHours: 0, isCaCertificate: false };

export const SPECS: Record<TlsType, TypeSpec> = {
  [TYPES.privateKey]: {
    inputs: ["algorithm", "ecdsaCurve", "rsaBits"],
    required: ["algorithm"],
    defaults: { rsaBits: 2048, ecdsaCurve: "P224" },
    secretOutputs: ["privateKeyPem", "privateKeyPemPkcs8"],
    inPlace: [],
    renewable: false,
  },
  [TYPES.certRequest]: {
    inputs: ["privateKeyPem", ...NAMES],
    required: ["privateKeyPem"],
    defaults: {},
    secretOutputs: ["privateKeyPem"],
    inPlace: [],
    renewable: false,
  },
  [TYPES.selfSignedCert]: {
    inputs: ["privateKeyPem", ...NAMES, ...CERT],
    required: ["privateKeyPem", "allowedUses", "validityPeriodHours"],
    defaults: CERT_DEFAULTS,
    secretOutputs: ["privateKeyPem"],
    inPlace: ["earlyRenewalHours"],
    renewable: true,
  },
  [TYPES.locallySignedCert]: {
    inputs: ["certRequestPem", "caCertPem", "caPrivateKeyPem", ...CERT],
    required: ["certRequestPem", "caCertPem", "caPrivateKeyPem", "allowedUses", "validityPeriodHours"],
    defaults: CERT_DEFAULTS,
    secretOutputs: ["caPrivateKeyPem"],
    inPlace: ["earlyRenewalHours"],
    renewable: true,
  },
};

export function specOf(type: string): TypeSpec {
  if (!Object.hasOwn(SPECS, type)) throw new Error(`tls emulation: resource type ${type} is not emulated`);
  return SPECS[type as TlsType];
}

/** Provider defaults for unset (null/undefined) inputs; unknowns are left alone. */
export function withDefaults(type: TlsType, inputs: Inputs): Inputs {
  const out: Inputs = { ...inputs };
  for (const [k, v] of Object.entries(SPECS[type].defaults)) out[k] ??= v;
  return out;
}

const snake = (property: string) => property.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const known = (v: unknown) => v !== undefined && v !== null && !isUnknownValue(v);

/**
 * Check: refuses inputs the emulation does not model, runs the plugin's validators (failures in
 * its words: `<type> resource '<name>' has a problem: <summary>. <detail>.`) and returns the
 * inputs with the provider's defaults. Errors the plugin raises in Create are raised there.
 */
export function check(type: TlsType, name: string, inputs: Inputs): Inputs {
  const spec = SPECS[type];
  const unemulated = Object.keys(inputs).filter((k) => !spec.inputs.includes(k) && inputs[k] != null);
  const subject = inputs.subject as Record<string, unknown> | undefined;
  if (known(subject)) {
    for (const k of Object.keys(subject!))
      if (!(k in SUBJECT_FIELDS) && subject![k] != null) unemulated.push(`subject.${k}`);
  }
  if (unemulated.length > 0)
    throw new Error(`tls emulation: ${type} input(s) not emulated: ${unemulated.join(", ")}`);

  const failures: string[] = [];
  const fail = (property: string, summary: string, detail: string) =>
    failures.push(
      `${type} resource '${name}' has a problem: ${summary}. ${detail}. Examine values at '${name}.${property}'.`,
    );
  const oneOf = (property: string, tfPath: string, value: unknown, values: readonly string[]) => {
    if (known(value) && !values.includes(String(value))) {
      const list = values.map((v) => JSON.stringify(v)).join(" ");
      fail(
        property,
        "Invalid Attribute Value Match",
        `Attribute ${tfPath} value must be one of: [${list}], got: ${JSON.stringify(String(value))}`,
      );
    }
  };
  for (const property of spec.required) {
    if (inputs[property] == null) {
      fail(
        property,
        "Missing required argument",
        `The argument "${snake(property)}" is required, but no definition was found`,
      );
    }
  }
  oneOf("algorithm", "algorithm", inputs.algorithm, ["RSA", "ECDSA", "ED25519"]);
  oneOf("ecdsaCurve", "ecdsa_curve", inputs.ecdsaCurve, ["P224", "P256", "P384", "P521"]);
  if (Array.isArray(inputs.allowedUses)) {
    inputs.allowedUses.forEach((use, i) => {
      oneOf(`allowedUses[${i}]`, `allowed_uses[${i}]`, use, SUPPORTED_USES);
    });
  }
  for (const [property, min] of [
    ["validityPeriodHours", 0],
    ["earlyRenewalHours", 0],
    ["maxPathLength", -1],
  ] as const) {
    if (known(inputs[property]) && Number(inputs[property]) < min) {
      fail(
        property,
        "Invalid Attribute Value",
        `Attribute ${snake(property)} value must be at least ${min}, got: ${Number(inputs[property])}`,
      );
    }
  }
  if (failures.length > 0) throw new Error(failures.join("\n"));
  return withDefaults(type, inputs);
}
