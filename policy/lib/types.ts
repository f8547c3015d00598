/** Type tokens of the resources the policies look at (the providers' schemas; see docs/PROVIDER-FACTS.md). */
export const TLS = {
  privateKey: "tls:index/privateKey:PrivateKey",
  selfSignedCert: "tls:index/selfSignedCert:SelfSignedCert",
  certRequest: "tls:index/certRequest:CertRequest",
  locallySignedCert: "tls:index/locallySignedCert:LocallySignedCert",
} as const;

export const DOCKER = {
  container: "docker:index/container:Container",
  service: "docker:index/service:Service",
  secret: "docker:index/secret:Secret",
  volume: "docker:index/volume:Volume",
} as const;

/** The root stack resource: its properties are the stack outputs. */
export const STACK_TYPE = "pulumi:pulumi:Stack";

export const CERTIFICATE_TYPES: readonly string[] = [TLS.selfSignedCert, TLS.locallySignedCert];
