/**
 * The emulated tls plugin (@pulumi/tls 5.6.1 = bridged hashicorp/terraform-provider-tls): real
 * keys, CSRs and certificates shaped as the plugin makes them (see /work/shared/docs/PROVIDERS.md §1).
 * Resources are logical: Delete does nothing, Update copies the plan (only `earlyRenewalHours`
 * changes in place).
 */
import type { KeyObject } from "node:crypto";
import type {
  CreateRequest,
  CreateResult,
  DeleteRequest,
  DiffRequest,
  DiffResult,
  EmulatedProvider,
  Inputs,
  State,
  UpdateRequest,
} from "../engine/provider.ts";
import { changedKeys, containsUnknown, isUnknownValue } from "../engine/values.ts";
import {
  createCertificate,
  EXT_KEY_USAGES,
  KEY_USAGES,
  type Parent,
  parseCertificatePem,
  type Template,
} from "./certificate.ts";
import { createCertificateRequest, parseCertificateRequestPem } from "./csr.ts";
import { ProviderDiagnosticError } from "./errors.ts";
import {
  type EcdsaCurve,
  generatePrivateKey,
  type KeyAlgorithm,
  parsePrivateKeyPem,
  privateKeyPem,
  privateKeyPemPkcs8,
  publicKeyId,
  spkiDer,
  subjectKeyId,
} from "./keys.ts";
import { encodeName, isEmptyName, nameFromSubject, type SubjectInput } from "./name.ts";
import { openSshEncodings } from "./openssh.ts";
import { hashForState, pemEncode } from "./pem.ts";
import { parseIp, type Sans, uriParseError } from "./san.ts";
import { check, isTlsType, SPECS, type TlsType, TYPES, withDefaults } from "./schema.ts";
import { parseRfc3339, rfc3339Nano } from "./time.ts";

export interface TlsProviderOptions {
  /** The plugin's clock (`overridableTimeFunc`); tests move it to reach the renewal window. */
  now?: () => Date;
}

/** Wraps a Go error from a create step into the diagnostic the plugin reports. */
function diagnostic<T>(summary: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ProviderDiagnosticError) throw err;
    throw new ProviderDiagnosticError(summary, (err as Error).message);
  }
}

function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.map(String) : [];
}

/** The ReadyForRenewal plan modifier: true when the validity is 0 or entirely "early". */
function plannedReadyForRenewal(inputs: Inputs): boolean | undefined {
  const validity = inputs.validityPeriodHours;
  const early = inputs.earlyRenewalHours;
  if (isUnknownValue(validity)) return undefined;
  if (Number(validity) === 0) return true;
  if (isUnknownValue(early)) return undefined;
  return Number(early) >= Number(validity);
}

export class TlsProvider implements EmulatedProvider {
  readonly pkg = "tls";
  /** Warnings the plugin would print (e.g. "Potentially Invalid Certificate Authority"). */
  readonly warnings: string[] = [];
  private readonly now: () => Date;

  constructor(options: TlsProviderOptions = {}) {
    this.now = options.now ?? (() => new Date());
  }

  private spec(type: string) {
    if (!isTlsType(type)) throw new Error(`tls provider: unknown resource type ${type}`);
    return SPECS[type];
  }

  secretOutputs(type: string): readonly string[] {
    return this.spec(type).secretOutputs;
  }

  diff(req: DiffRequest): DiffResult {
    const type = req.type as TlsType;
    const spec = this.spec(type);
    const news = check(type, req.name, req.newInputs);
    const olds = withDefaults(type, req.oldInputs);
    for (const k of spec.writeOnly) {
      delete news[k];
      delete olds[k];
    }
    const changed = changedKeys(olds, news);
    const replaceKeys = changed.filter((k) => !spec.inPlace.has(k));
    if (spec.renewable && this.inRenewalWindow(req.oldState, news.earlyRenewalHours)) {
      replaceKeys.push("readyForRenewal");
    }
    if (replaceKeys.length > 0) {
      return {
        kind: "replace",
        changed: [...new Set([...changed, ...replaceKeys])].sort(),
        deleteBeforeReplace: false,
      };
    }
    if (changed.length > 0) return { kind: "update", changed };
    return { kind: "none" };
  }

  /** upstream ModifyPlan: replace once `now >= validityEndTime - earlyRenewalHours`. */
  private inRenewalWindow(oldState: State, earlyRenewalHours: unknown): boolean {
    if (isUnknownValue(earlyRenewalHours)) return false;
    const end =
      typeof oldState.validityEndTime === "string" ? parseRfc3339(oldState.validityEndTime) : undefined;
    if (!end) return false;
    const renewAt = end.getTime() - Number(earlyRenewalHours ?? 0) * 3_600_000;
    return this.now().getTime() >= renewAt;
  }

  async create(req: CreateRequest): Promise<CreateResult> {
    const type = req.type as TlsType;
    this.spec(type);
    const inputs = check(type, req.name, req.inputs);
    if (req.preview || containsUnknown(inputs)) return this.plan(type, inputs);
    switch (type) {
      case TYPES.privateKey:
        return this.createPrivateKey(inputs);
      case TYPES.certRequest:
        return this.createCertRequest(inputs);
      case TYPES.selfSignedCert:
        return this.createSelfSignedCert(inputs);
      case TYPES.locallySignedCert:
        return this.createLocallySignedCert(inputs);
    }
  }

  async update(req: UpdateRequest): Promise<CreateResult> {
    const type = req.type as TlsType;
    const spec = this.spec(type);
    const inputs = check(type, req.name, req.inputs);
    // updatedUsingPlan: the plan (prior computed values + new config) becomes the state.
    const state: State = { ...req.oldState, ...inputs };
    for (const k of spec.writeOnly) delete state[k];
    if (spec.renewable) state.readyForRenewal = plannedReadyForRenewal(inputs) ?? false;
    return { id: req.id, state };
  }

  async delete(_req: DeleteRequest): Promise<void> {
    // Logical resources: nothing to remove outside the state.
  }

  /** What the plan knows before Create: config + defaults; computed values unknown (omitted). */
  private plan(type: TlsType, inputs: Inputs): CreateResult {
    const state: State = { ...inputs };
    for (const k of SPECS[type].writeOnly) delete state[k];
    if (SPECS[type].renewable) {
      const ready = plannedReadyForRenewal(inputs);
      if (ready !== undefined) state.readyForRenewal = ready;
    }
    return { id: "", state };
  }

  private async createPrivateKey(inputs: Inputs): Promise<CreateResult> {
    const algorithm = String(inputs.algorithm) as KeyAlgorithm;
    const key = await generatePrivateKey(
      algorithm,
      Number(inputs.rsaBits),
      String(inputs.ecdsaCurve) as EcdsaCurve,
    );
    const ssh = openSshEncodings(key);
    const state: State = {
      ...inputs,
      privateKeyPem: privateKeyPem(key),
      privateKeyPemPkcs8: privateKeyPemPkcs8(key),
      privateKeyOpenssh: ssh.privateKeyOpenssh,
      publicKeyPem: pemEncode("PUBLIC KEY", spkiDer(key)),
      publicKeyOpenssh: ssh.publicKeyOpenssh,
      publicKeyFingerprintMd5: ssh.publicKeyFingerprintMd5,
      publicKeyFingerprintSha256: ssh.publicKeyFingerprintSha256,
    };
    return { id: publicKeyId(key), state };
  }

  private signingKey(
    inputs: Inputs,
    property: string,
    summary: string,
  ): { key: KeyObject; algorithm: KeyAlgorithm } {
    const pem = String(inputs[property] ?? inputs[`${property}Wo`] ?? "");
    return diagnostic(summary, () => parsePrivateKeyPem(pem));
  }

  /** Subject, DNS names, IPs and URIs of SelfSignedCert / CertRequest, with Create's errors. */
  private subjectAndSans(inputs: Inputs): { subject: Buffer; subjectEmpty: boolean; sans: Sans } {
    const subjectInput = inputs.subject as SubjectInput | undefined;
    const name = nameFromSubject(subjectInput ?? {});
    const sans: Sans = { dnsNames: stringList(inputs.dnsNames), ipAddresses: [], uris: [] };
    for (const ip of stringList(inputs.ipAddresses)) {
      const bytes = parseIp(ip);
      if (!bytes)
        throw new ProviderDiagnosticError("Invalid IP address", `Failed to parse ${JSON.stringify(ip)}`);
      sans.ipAddresses.push(bytes);
    }
    for (const uri of stringList(inputs.uris)) {
      const error = uriParseError(uri);
      if (error)
        throw new ProviderDiagnosticError("Invalid URI", `Failed to parse ${JSON.stringify(uri)}: ${error}`);
      sans.uris.push(uri);
    }
    return { subject: encodeName(name), subjectEmpty: isEmptyName(name), sans };
  }

  private async createCertRequest(inputs: Inputs): Promise<CreateResult> {
    const { key, algorithm } = this.signingKey(inputs, "privateKeyPem", "Failed to parse private key PEM");
    const { subject, sans } = this.subjectAndSans(inputs);
    const csr = diagnostic("Error creating certificate request", () =>
      createCertificateRequest(subject, sans, key),
    );
    const state: State = {
      ...inputs,
      keyAlgorithm: algorithm,
      certRequestPem: pemEncode("CERTIFICATE REQUEST", csr),
    };
    delete state.privateKeyPemWo;
    return { id: hashForState(csr), state };
  }

  private async createSelfSignedCert(inputs: Inputs): Promise<CreateResult> {
    const { key, algorithm } = this.signingKey(inputs, "privateKeyPem", "Failed to parse private key PEM");
    const { subject, subjectEmpty, sans } = this.subjectAndSans(inputs);
    const spki = spkiDer(key);
    const template = this.template(inputs, subject, subjectEmpty, sans, spki);
    if (inputs.setAuthorityKeyId === true) {
      // Self-signed: the parent is the template, so its SKI is the one just set (or none).
      if (!template.subjectKeyId) {
        throw new ProviderDiagnosticError(
          "Invalid Certificate Authority",
          "Could not determine Authority Key Identifier",
        );
      }
      template.authorityKeyId = template.subjectKeyId;
    }
    const parent: Parent = { rawSubject: subject, subjectKeyId: template.subjectKeyId };
    return this.issue(inputs, template, parent, spki, key, { keyAlgorithm: algorithm });
  }

  private async createLocallySignedCert(inputs: Inputs): Promise<CreateResult> {
    const request = diagnostic("Failed to parse certificate request PEM", () =>
      parseCertificateRequestPem(String(inputs.certRequestPem)),
    );
    const { key, algorithm } = this.signingKey(
      inputs,
      "caPrivateKeyPem",
      "Failed to parse CA private key PEM",
    );
    const ca = diagnostic("Failed to parse CA certificate PEM", () =>
      parseCertificatePem(String(inputs.caCertPem)),
    );
    if (!ca.isCa) {
      this.warnings.push(
        "Potentially Invalid Certificate Authority: Certificate provided as Authority does not appear to be a valid Certificate Authority. The resulting certificate might fail certificate validation.",
      );
    }
    // Only Subject, DNSNames, IPAddresses and URIs are copied from the CSR.
    const subject = encodeName(request.subject);
    const template = this.template(inputs, subject, isEmptyName(request.subject), request.sans, request.spki);
    const parent: Parent = { rawSubject: ca.rawSubject, subjectKeyId: ca.subjectKeyId, spki: ca.spki };
    return this.issue(inputs, template, parent, request.spki, key, { caKeyAlgorithm: algorithm });
  }

  /** The template part of upstream `createCertificate` (usages, CA, path length, SKI). */
  private template(
    inputs: Inputs,
    subject: Buffer,
    subjectEmpty: boolean,
    sans: Sans,
    spki: Buffer,
  ): Template {
    const template: Template = { subject, sans, keyUsage: 0, extKeyUsage: [], isCa: false, maxPathLen: 0 };
    for (const use of stringList(inputs.allowedUses)) {
      template.keyUsage |= KEY_USAGES[use] ?? 0;
      const eku = EXT_KEY_USAGES[use];
      if (eku) template.extKeyUsage.push(eku);
    }
    if (inputs.isCaCertificate === true) {
      if (subjectEmpty) {
        throw new ProviderDiagnosticError(
          "Invalid Certificate Subject",
          "Must contain at least one Distinguished Name when creating Certificate Authority (CA)",
        );
      }
      template.isCa = true;
      template.subjectKeyId = subjectKeyId(spki);
    }
    const maxPathLength = inputs.maxPathLength;
    if (typeof maxPathLength === "number" && maxPathLength >= 0) template.maxPathLen = maxPathLength;
    if (inputs.setSubjectKeyId === true) template.subjectKeyId = subjectKeyId(spki);
    return template;
  }

  private issue(
    inputs: Inputs,
    template: Template,
    parent: Parent,
    spki: Buffer,
    signingKey: KeyObject,
    extra: State,
  ): CreateResult {
    const issued = diagnostic("Failed to create certificate", () =>
      createCertificate({
        template,
        parent,
        publicKeySpki: spki,
        signingKey,
        now: this.now(),
        validityPeriodHours: Number(inputs.validityPeriodHours),
      }),
    );
    const state: State = {
      ...inputs,
      ...extra,
      certPem: pemEncode("CERTIFICATE", issued.der),
      validityStartTime: rfc3339Nano(issued.notBefore),
      validityEndTime: rfc3339Nano(issued.notAfter),
      readyForRenewal: plannedReadyForRenewal(inputs) ?? false,
    };
    delete state.privateKeyPemWo;
    delete state.caPrivateKeyPemWo;
    // max_path_length: null in state when not configured.
    if (state.maxPathLength === undefined) state.maxPathLength = null;
    return { id: issued.serial.toString(10), state };
  }
}
