/**
 * The emulated tls plugin (@pulumi/tls 5.6.1, the bridged hashicorp/terraform-provider-tls): real
 * keys, CSRs and certificates with the plugin's content, its defaults and validators, its diff
 * (everything replaces except `earlyRenewalHours`; a certificate inside its early-renewal window is
 * replaced), and its secrets (docs/PROVIDER-FACTS.md, "tls"). Resources are logical: Delete does
 * nothing, Update copies the plan. Inputs and types the program does not use are refused.
 */
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
import { check, SPECS, specOf, type TlsType, TYPES, withDefaults } from "./schema.ts";
import {
  createRequest,
  diagnostic,
  generatePrivateKey,
  isCa,
  issueCertificate,
  keyPems,
  parsePrivateKey,
  publicKeyOf,
  readCaCertificate,
  readRequest,
  type Sans,
  sha1Hex,
  spkiDer,
  subjectName,
} from "./x509.ts";

export interface TlsProviderOptions {
  /** The plugin's clock; tests move it to reach the renewal window. */
  now?: () => Date;
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

function sansOf(inputs: Inputs): Sans {
  return {
    dnsNames: strings(inputs.dnsNames),
    ipAddresses: strings(inputs.ipAddresses),
    uris: strings(inputs.uris),
  };
}

/** The ReadyForRenewal plan modifier: true when the validity is 0 or entirely "early". */
function plannedReadyForRenewal(inputs: Inputs): boolean | undefined {
  const { validityPeriodHours: validity, earlyRenewalHours: early } = inputs;
  if (isUnknownValue(validity)) return undefined;
  if (Number(validity) === 0) return true;
  if (isUnknownValue(early)) return undefined;
  return Number(early) >= Number(validity);
}

export class TlsProvider implements EmulatedProvider {
  readonly pkg = "tls";
  private readonly now: () => Date;

  constructor(options: TlsProviderOptions = {}) {
    this.now = options.now ?? (() => new Date());
  }

  secretOutputs(type: string): readonly string[] {
    return specOf(type).secretOutputs;
  }

  diff(req: DiffRequest): DiffResult {
    const spec = specOf(req.type);
    const type = req.type as TlsType;
    const news = check(type, req.name, req.newInputs);
    const changed = changedKeys(withDefaults(type, req.oldInputs), news);
    const replaces = changed.filter((k) => !spec.inPlace.includes(k));
    if (spec.renewable && this.inRenewalWindow(req.oldState, news.earlyRenewalHours))
      replaces.push("readyForRenewal");
    if (replaces.length > 0) {
      return {
        kind: "replace",
        changed: [...new Set([...changed, ...replaces])].sort(),
        deleteBeforeReplace: false,
      };
    }
    return changed.length > 0 ? { kind: "update", changed } : { kind: "none" };
  }

  /** The plugin's ModifyPlan: replace once `now >= validityEndTime - earlyRenewalHours`. */
  private inRenewalWindow(oldState: State, earlyRenewalHours: unknown): boolean {
    if (isUnknownValue(earlyRenewalHours) || typeof oldState.validityEndTime !== "string") return false;
    const renewAt = Date.parse(oldState.validityEndTime) - Number(earlyRenewalHours ?? 0) * 3_600_000;
    return this.now().getTime() >= renewAt;
  }

  async create(req: CreateRequest): Promise<CreateResult> {
    specOf(req.type);
    const type = req.type as TlsType;
    const inputs = check(type, req.name, req.inputs);
    if (req.preview || containsUnknown(inputs)) {
      // The plan knows the configuration and defaults; computed values stay unknown (omitted).
      const ready = SPECS[type].renewable ? plannedReadyForRenewal(inputs) : undefined;
      return { id: "", state: ready === undefined ? inputs : { ...inputs, readyForRenewal: ready } };
    }
    switch (type) {
      case TYPES.privateKey: {
        const key = await generatePrivateKey(
          String(inputs.algorithm),
          Number(inputs.rsaBits),
          String(inputs.ecdsaCurve),
        );
        return { id: sha1Hex(spkiDer(key)), state: { ...inputs, ...keyPems(key) } };
      }
      case TYPES.certRequest: {
        const key = parsePrivateKey(String(inputs.privateKeyPem), "Failed to parse private key PEM");
        const csr = await createRequest(key, subjectName(inputs.subject as never), sansOf(inputs));
        const certRequestPem = `${csr.toString("pem")}\n`;
        return {
          id: sha1Hex(csr.rawData),
          state: { ...inputs, certRequestPem },
        };
      }
      case TYPES.selfSignedCert: {
        const key = parsePrivateKey(String(inputs.privateKeyPem), "Failed to parse private key PEM");
        const name = subjectName(inputs.subject as never);
        const names = { name, sans: sansOf(inputs), publicKey: publicKeyOf(key) };
        return this.issue(inputs, key, names);
      }
      case TYPES.locallySignedCert: {
        const request = readRequest(String(inputs.certRequestPem));
        const caKey = parsePrivateKey(String(inputs.caPrivateKeyPem), "Failed to parse CA private key PEM");
        const ca = readCaCertificate(String(inputs.caCertPem));
        if (!spkiDer(caKey).equals(Buffer.from(ca.publicKey.rawData))) {
          throw diagnostic(
            "Failed to create certificate",
            "x509: provided PrivateKey doesn't match parent's PublicKey",
          );
        }
        if (!isCa(ca)) {
          // The plugin only warns ("Potentially Invalid Certificate Authority"); the emulation refuses instead.
          throw new Error("tls emulation: signing with a certificate that is not a CA is not emulated");
        }
        return this.issue(inputs, caKey, request, ca);
      }
    }
  }

  private async issue(
    inputs: Inputs,
    signingKey: Parameters<typeof issueCertificate>[1],
    names: Pick<Parameters<typeof issueCertificate>[0], "name" | "sans" | "publicKey">,
    issuer?: Parameters<typeof issueCertificate>[2],
  ): Promise<CreateResult> {
    const issued = await issueCertificate(
      {
        ...names,
        allowedUses: strings(inputs.allowedUses),
        isCa: inputs.isCaCertificate === true,
        maxPathLength: inputs.maxPathLength as number | undefined,
        validityPeriodHours: Number(inputs.validityPeriodHours),
        now: this.now(),
      },
      signingKey,
      issuer,
    );
    const state: State = {
      ...inputs,
      certPem: issued.pem,
      // The plugin writes Go's RFC 3339 in its local zone; the emulation writes UTC.
      validityStartTime: issued.notBefore.toISOString(),
      validityEndTime: issued.notAfter.toISOString(),
      readyForRenewal: plannedReadyForRenewal(inputs) ?? false,
      maxPathLength: inputs.maxPathLength ?? null,
    };
    return { id: issued.serial.toString(10), state };
  }

  async update(req: UpdateRequest): Promise<CreateResult> {
    const type = req.type as TlsType;
    const inputs = check(type, req.name, req.inputs);
    // updatedUsingPlan: the prior computed values plus the new configuration become the state.
    const state: State = { ...req.oldState, ...inputs };
    if (specOf(type).renewable) state.readyForRenewal = plannedReadyForRenewal(inputs) ?? false;
    return { id: req.id, state };
  }

  async delete(_req: DeleteRequest): Promise<void> {
    // Logical resources: nothing to remove outside the state.
  }
}
