/**
 * Test helper for the x509-limbo runs of policy and name-constraints tests: parse PEM, and assemble
 * candidate paths simply (by subject/issuer name and AKI/SKI, no signature checks). Real path
 * building is `cert/path.ts`'s job; this only finds the paths a case is about.
 */
import type { ParsedCertificate } from '../src/cert/model.js';
import { parseCertificate } from '../src/cert/parse.js';
import { readPemBlocks } from '../src/pem.js';

export function parsePem(pem: string): ParsedCertificate {
  const der = readPemBlocks(pem)[0]?.der;
  if (!der) throw new Error('test data: not a PEM certificate');
  return parseCertificate(der);
}

export function sameKeyId(a: Uint8Array | null | undefined, b: Uint8Array | undefined): boolean {
  if (!a || !b) return true; // only compared when both are present
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Every path leaf → intermediates → trusted certificate that chains by name and key identifier (path anchor-issued first). */
export function assemble(anchors: ParsedCertificate[], pool: ParsedCertificate[], leaf: ParsedCertificate): { anchor: ParsedCertificate; path: ParsedCertificate[] }[] {
  const out: { anchor: ParsedCertificate; path: ParsedCertificate[] }[] = [];
  const issues = (issuer: ParsedCertificate, child: ParsedCertificate) =>
    issuer.subject.key === child.issuer.key && sameKeyId(child.authorityKeyIdentifier?.keyIdentifier, issuer.subjectKeyIdentifier);
  const walk = (chain: ParsedCertificate[]): void => {
    const top = chain[0]!;
    for (const a of anchors) if (issues(a, top)) out.push({ anchor: a, path: chain });
    if (chain.length > 8) return;
    for (const c of pool) if (!chain.includes(c) && issues(c, top)) walk([c, ...chain]);
  };
  walk([leaf]);
  return out;
}
