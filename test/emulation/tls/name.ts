/**
 * Certificate subjects as Go's crypto/x509/pkix models them: the provider fills a `pkix.Name`
 * from the `subject` input, Go encodes it with `Name.ToRDNSequence()` (fixed attribute order,
 * PrintableString when the text allows it, else UTF8String; emailAddress as an IA5String extra
 * name), and a LocallySignedCert re-encodes the subject parsed from the CSR the same way.
 */
import * as der from "../x509/der.ts";

/** The `subject` input of SelfSignedCert / CertRequest (Pulumi names). */
export interface SubjectInput {
  commonName?: string;
  country?: string;
  emailAddress?: string;
  locality?: string;
  organization?: string;
  organizationalUnit?: string;
  postalCode?: string;
  province?: string;
  serialNumber?: string;
  streetAddresses?: string[];
}

/** Go's pkix.Name, reduced to what the provider sets or reads. */
export interface GoName {
  country: string[];
  province: string[];
  locality: string[];
  streetAddress: string[];
  postalCode: string[];
  organization: string[];
  organizationalUnit: string[];
  commonName: string;
  serialNumber: string;
  /** ExtraNames: (oid, already-encoded value). The provider only adds emailAddress here. */
  extraNames: { oid: string; value: Buffer }[];
  /** Number of attributes seen when parsed (Go's `Names`); 0 for a name built from input. */
  parsedAttributes: number;
}

export const OID_EMAIL_ADDRESS = "1.2.840.113549.1.9.1";
const ATTR = {
  commonName: "2.5.4.3",
  serialNumber: "2.5.4.5",
  country: "2.5.4.6",
  locality: "2.5.4.7",
  province: "2.5.4.8",
  streetAddress: "2.5.4.9",
  organization: "2.5.4.10",
  organizationalUnit: "2.5.4.11",
  postalCode: "2.5.4.17",
} as const;

export function emptyName(): GoName {
  return {
    country: [],
    province: [],
    locality: [],
    streetAddress: [],
    postalCode: [],
    organization: [],
    organizationalUnit: [],
    commonName: "",
    serialNumber: "",
    extraNames: [],
    parsedAttributes: 0,
  };
}

/** upstream `createSubjectDistinguishedNames`: every non-null field, single-valued except streets. */
export function nameFromSubject(subject: SubjectInput): GoName {
  const n = emptyName();
  const one = (v: string | undefined) => (v === undefined || v === null ? [] : [v]);
  n.commonName = subject.commonName ?? "";
  n.organization = one(subject.organization);
  n.organizationalUnit = one(subject.organizationalUnit);
  n.streetAddress = subject.streetAddresses ? [...subject.streetAddresses] : [];
  n.locality = one(subject.locality);
  n.province = one(subject.province);
  n.country = one(subject.country);
  n.postalCode = one(subject.postalCode);
  n.serialNumber = subject.serialNumber ?? "";
  if (subject.emailAddress !== undefined && subject.emailAddress !== null) {
    n.extraNames.push({ oid: OID_EMAIL_ADDRESS, value: der.ia5String(subject.emailAddress) });
  }
  return n;
}

/** `cmp.Equal(subject, pkix.Name{})`: the provider's "CA needs a subject" test. */
export function isEmptyName(n: GoName): boolean {
  return (
    n.country.length === 0 &&
    n.province.length === 0 &&
    n.locality.length === 0 &&
    n.streetAddress.length === 0 &&
    n.postalCode.length === 0 &&
    n.organization.length === 0 &&
    n.organizationalUnit.length === 0 &&
    n.commonName === "" &&
    n.serialNumber === "" &&
    n.extraNames.length === 0 &&
    n.parsedAttributes === 0
  );
}

/** Go's encoding/asn1 PrintableString test when marshalling ('*' and '&' rejected). */
function isPrintable(s: string): boolean {
  return /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(s);
}

function encodeString(s: string): Buffer {
  return isPrintable(s) ? der.printableString(s) : der.utf8String(s);
}

function rdn(oid: string, values: readonly string[]): Buffer[] {
  if (values.length === 0) return [];
  return [der.set(...values.map((v) => der.sequence(der.oid(oid), encodeString(v))))];
}

/** `Name.ToRDNSequence()` marshalled: C, ST, L, STREET, POSTALCODE, O, OU, CN, SERIALNUMBER, extras. */
export function encodeName(n: GoName): Buffer {
  return der.sequence(
    ...rdn(ATTR.country, n.country),
    ...rdn(ATTR.province, n.province),
    ...rdn(ATTR.locality, n.locality),
    ...rdn(ATTR.streetAddress, n.streetAddress),
    ...rdn(ATTR.postalCode, n.postalCode),
    ...rdn(ATTR.organization, n.organization),
    ...rdn(ATTR.organizationalUnit, n.organizationalUnit),
    ...rdn(ATTR.commonName, n.commonName ? [n.commonName] : []),
    ...rdn(ATTR.serialNumber, n.serialNumber ? [n.serialNumber] : []),
    ...n.extraNames.map((e) => der.set(der.sequence(der.oid(e.oid), e.value))),
  );
}

const STRING_TAGS = new Set<number>([
  der.TAG.utf8String,
  der.TAG.printableString,
  der.TAG.ia5String,
  0x12, // NumericString
  0x14, // T61String
  0x1e, // BMPString
]);

/** `Name.FillFromRDNSequence`: known string attributes go to fields, everything else is dropped. */
export function parseName(nameDer: Buffer): GoName {
  const n = emptyName();
  for (const set of der.children(der.parse(nameDer))) {
    for (const atv of der.children(set)) {
      const [typeNode, valueNode] = der.children(atv);
      if (!typeNode || !valueNode) continue;
      n.parsedAttributes++;
      if (!STRING_TAGS.has(valueNode.tag)) continue;
      const value =
        valueNode.tag === 0x1e
          ? Buffer.from(valueNode.content).swap16().toString("utf16le")
          : der.readString(valueNode);
      switch (der.readOid(typeNode)) {
        case ATTR.country:
          n.country.push(value);
          break;
        case ATTR.province:
          n.province.push(value);
          break;
        case ATTR.locality:
          n.locality.push(value);
          break;
        case ATTR.streetAddress:
          n.streetAddress.push(value);
          break;
        case ATTR.postalCode:
          n.postalCode.push(value);
          break;
        case ATTR.organization:
          n.organization.push(value);
          break;
        case ATTR.organizationalUnit:
          n.organizationalUnit.push(value);
          break;
        case ATTR.commonName:
          n.commonName = value;
          break;
        case ATTR.serialNumber:
          n.serialNumber = value;
          break;
      }
    }
  }
  return n;
}
