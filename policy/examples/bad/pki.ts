/** The PKI half of the bad example: each resource carries the mistake named beside it. */
import * as tls from "@pulumi/tls";

export function badPki() {
  // tls-key-ecdsa-curve: no ecdsaCurve, so the provider's default P224.
  const rootKey = new tls.PrivateKey("root-key", { algorithm: "ECDSA" });
  // tls-ca-key-usage: no crl_signing. tls-ca-path-length: no maxPathLength, yet it signs an intermediate.
  const root = new tls.SelfSignedCert("root", {
    privateKeyPem: rootKey.privateKeyPem,
    subject: { commonName: "Bad Root CA", organization: "bad example" },
    isCaCertificate: true,
    allowedUses: ["cert_signing"],
    validityPeriodHours: 87600,
  });
  const intermediateKey = new tls.PrivateKey("intermediate-key", { algorithm: "ECDSA", ecdsaCurve: "P256" });
  const intermediateCsr = new tls.CertRequest("intermediate-csr", {
    privateKeyPem: intermediateKey.privateKeyPem,
    subject: { commonName: "Bad Intermediate CA", organization: "bad example" },
  });
  const intermediate = new tls.LocallySignedCert("intermediate", {
    certRequestPem: intermediateCsr.certRequestPem,
    caCertPem: root.certPem,
    caPrivateKeyPem: rootKey.privateKeyPem,
    isCaCertificate: true,
    allowedUses: ["cert_signing", "crl_signing"],
    validityPeriodHours: 43800,
  });

  // tls-key-rsa-bits: 1024 bits.
  const serverKey = new tls.PrivateKey("server-key", { algorithm: "RSA", rsaBits: 1024 });
  // tls-leaf-subject-alt-names: no dnsNames, ipAddresses or uris.
  const serverCsr = new tls.CertRequest("server-csr", {
    privateKeyPem: serverKey.privateKeyPem,
    subject: { commonName: "server" },
  });
  // tls-leaf-single-purpose (server_auth and client_auth), tls-leaf-max-validity (10 years),
  // tls-leaf-early-renewal (no earlyRenewalHours).
  const serverCert = new tls.LocallySignedCert("server-cert", {
    certRequestPem: serverCsr.certRequestPem,
    caCertPem: intermediate.certPem,
    caPrivateKeyPem: intermediateKey.privateKeyPem,
    allowedUses: ["digital_signature", "key_encipherment", "server_auth", "client_auth"],
    validityPeriodHours: 87600,
  });
  return { root, intermediate, serverKey, serverCert };
}
