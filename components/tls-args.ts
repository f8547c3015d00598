/** Maps this project's typed values onto the tls provider's inputs, spelling out every default. */
import * as pulumi from "@pulumi/pulumi";
import type * as tls from "@pulumi/tls";
import type { KeySpec } from "./key-algorithm.ts";
import type { Subject } from "./subject.ts";

export function keyArgs(key: pulumi.Input<KeySpec>): tls.PrivateKeyArgs {
  const spec = pulumi.output(key);
  return {
    algorithm: spec.algorithm,
    // Never leave these to the provider: its ecdsaCurve default is P224, which TLS refuses.
    ecdsaCurve: spec.apply((s) => s.ecdsaCurve),
    rsaBits: spec.apply((s) => s.rsaBits),
  };
}

export function subjectArgs(
  subject: pulumi.Input<Subject>,
  commonName: pulumi.Input<string>,
): pulumi.Output<tls.types.input.CertRequestSubject> {
  return pulumi.all([subject, commonName]).apply(([s, cn]) => ({
    commonName: cn,
    organization: s.organization,
    ...(s.organizationalUnit ? { organizationalUnit: s.organizationalUnit } : {}),
    ...(s.country ? { country: s.country } : {}),
    ...(s.province ? { province: s.province } : {}),
    ...(s.locality ? { locality: s.locality } : {}),
  }));
}
