/**
 * Name constraints against the conformance corpora, through `checkNameConstraints` alone:
 *
 * - NIST PKITS 4.13 (all 38 cases) on the path `cases.json` gives (anchor first). Every 4.13 case
 *   is decided by name constraints alone, so the verdict must equal PKITS's.
 * - x509-limbo: every applicable `rfc5280::nc::*`, `webpki::nc::*`, `cve::*` case and the
 *   `pathological::nc-dos-*` ones. The chain is assembled here simply (leaf, then intermediates whose
 *   subject is the issuer's name and whose SKI matches the AKI, up to a trusted certificate); a case
 *   passes name constraints when at least one assembled path does. Signatures, validity and the
 *   rest are the lead's conformance harness's (`conformance.test.ts`) business.
 *
 * Some limbo cases are invalid for reasons outside this function; each is listed in
 * `DECIDED_ELSEWHERE` with the reason, and the test checks that reason holds (the parser throws, the
 * parser records the profile problem, the leaf carries nameConstraints without being a CA) instead of
 * pretending the name-constraints check decides it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ParsedCertificate } from '../src/cert/model.js';
import { checkNameConstraints, type NameConstraintsResult } from '../src/cert/name-constraints.js';
import { parseCertificate } from '../src/cert/parse.js';
import { assemble, parsePem } from './name-constraints-chains.js';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const json = (p: string): unknown => JSON.parse(readFileSync(here(p), 'utf8'));

interface PkitsCase { id: string; section: string; name: string; path: string[]; expected: 'valid' | 'invalid' }
const pkits = (json('./conformance/pkits/cases.json') as { cases: PkitsCase[] }).cases.filter((c) => c.section.startsWith('4.13.'));
const pkitsCert = (name: string) => parseCertificate(new Uint8Array(readFileSync(here(`./conformance/pkits/certs/${name}.crt`))));

describe('PKITS 4.13 name constraints', () => {
  it('has all 38 cases', () => expect(pkits.length).toBe(38));
  for (const c of pkits) {
    it(`${c.id} ${c.name} (${c.expected})`, () => {
      const [anchor, ...path] = c.path.map(pkitsCert);
      const r = checkNameConstraints(path, anchor!);
      if (c.expected === 'valid') expect(r).toEqual({ ok: true });
      else {
        expect(r).toMatchObject({ ok: false, code: 'NAME_CONSTRAINTS' });
        if (!r.ok) {
          expect(r.certIndex).toBeGreaterThanOrEqual(0);
          expect(r.certIndex).toBeLessThan(path.length);
          expect(r.message).toMatch(/^Certificate '.+' has the /);
        }
      }
    });
  }
});

interface LimboEntry { id: string; expected: 'valid' | 'invalid' }
interface LimboCase { id: string; trusted_certs: string[]; untrusted_intermediates: string[]; peer_certificate: string }
const applicable = (json('./conformance/limbo/applicable.json') as { cases: LimboEntry[] }).cases.filter((e) =>
  /^(rfc5280::nc::|webpki::nc::|cve::|pathological::nc-dos-)/.test(e.id),
);
const limbo = new Map((json('./conformance/limbo/limbo.json') as { testcases: LimboCase[] }).testcases.map((c) => [c.id, c]));

type Elsewhere =
  | { by: 'parser'; reason: string; error: RegExp }
  | { by: 'profile'; reason: string; problem: RegExp }
  | { by: 'validate'; reason: string; check: (leaf: ParsedCertificate) => boolean };

/** Limbo cases whose verdict is not decided by checkNameConstraints, and what does decide it. */
const DECIDED_ELSEWHERE: Record<string, Elsewhere> = {
  'pathological::nc-dos-1': { by: 'parser', reason: 'the leaf subject has 2048 RDNs; the parser caps Names at 128', error: /more than 128 RDNs/ },
  'pathological::nc-dos-3': { by: 'parser', reason: 'the leaf subject has 2048 RDNs; the parser caps Names at 128', error: /more than 128 RDNs/ },
  'rfc5280::nc::invalid-ipv4-address': { by: 'parser', reason: 'a 4-octet iPAddress constraint is malformed DER for the model', error: /iPAddress constraint: must be 8 or 32 octets/ },
  'rfc5280::nc::invalid-ipv6-address': { by: 'parser', reason: 'a 16-octet iPAddress constraint is malformed', error: /iPAddress constraint: must be 8 or 32 octets/ },
  'rfc5280::nc::nc-permits-invalid-ip-san': { by: 'parser', reason: 'an 8-octet iPAddress SAN is malformed', error: /iPAddress: must be 4 or 16 octets/ },
  'webpki::nc::intermediate-permitted-excluded-subtrees-both-null': { by: 'parser', reason: 'a nameConstraints with neither subtree is malformed', error: /must hold permittedSubtrees or excludedSubtrees/ },
  'webpki::nc::intermediate-permitted-excluded-subtrees-both-empty-sequences': { by: 'parser', reason: 'GeneralSubtrees is SIZE (1..MAX)', error: /at least one subtree/ },
  'rfc5280::nc::permitted-dns-match-noncritical': {
    by: 'profile',
    reason: 'the only defect is a non-critical nameConstraints (RFC 5280 MUST); the constraint itself is satisfied — the parser records it in profileProblems and validate.ts refuses it',
    problem: /nameConstraints is not marked critical/,
  },
  'rfc5280::nc::not-allowed-in-ee-critical': {
    by: 'validate',
    reason: 'the leaf carries nameConstraints without being a CA; the constraints of a leaf constrain nothing, validate.ts refuses the extension in a non-CA',
    check: (leaf) => leaf.nameConstraints !== undefined && leaf.basicConstraints?.ca !== true,
  },
  'rfc5280::nc::not-allowed-in-ee-noncritical': {
    by: 'validate',
    reason: 'as not-allowed-in-ee-critical, and non-critical as well',
    check: (leaf) => leaf.nameConstraints !== undefined && leaf.basicConstraints?.ca !== true,
  },
};

describe('x509-limbo name-constraint cases', () => {
  it('selects the expected cases', () => {
    // 48 rfc5280::nc, 3 webpki::nc, 3 cve and 3 pathological::nc-dos applicable cases.
    expect(applicable.length).toBe(57);
    for (const id of Object.keys(DECIDED_ELSEWHERE)) expect(applicable.some((e) => e.id === id)).toBe(true);
  });

  for (const entry of applicable) {
    const elsewhere = DECIDED_ELSEWHERE[entry.id];
    it(`${entry.id} (${entry.expected})${elsewhere ? ` — decided by the ${elsewhere.by}` : ''}`, () => {
      const c = limbo.get(entry.id)!;
      const all = [...c.trusted_certs, ...c.untrusted_intermediates, c.peer_certificate];
      if (elsewhere?.by === 'parser') {
        expect(entry.expected).toBe('invalid');
        expect(() => all.forEach(parsePem)).toThrow(elsewhere.error);
        return;
      }
      const anchors = c.trusted_certs.map(parsePem);
      const pool = c.untrusted_intermediates.map(parsePem);
      const leaf = parsePem(c.peer_certificate);
      const paths = assemble(anchors, pool, leaf);
      expect(paths.length).toBeGreaterThan(0);
      const results: NameConstraintsResult[] = paths.map((p) => checkNameConstraints(p.path, p.anchor));
      const passes = results.some((r) => r.ok);
      if (elsewhere !== undefined) {
        expect(entry.expected).toBe('invalid');
        expect(passes).toBe(true); // the name constraints themselves are satisfied
        if (elsewhere.by === 'profile') expect([...anchors, ...pool, leaf].flatMap((x) => x.profileProblems ?? []).join('\n')).toMatch(elsewhere.problem);
        else expect(elsewhere.check(leaf)).toBe(true);
        return;
      }
      expect(passes, JSON.stringify(results)).toBe(entry.expected === 'valid');
      if (entry.id.startsWith('pathological::')) expect(results.every((r) => !r.ok && r.code === 'PATH_BUILDING_LIMIT')).toBe(true);
    });
  }
});
