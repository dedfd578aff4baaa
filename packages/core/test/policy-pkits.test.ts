/**
 * NIST PKITS sections 4.8–4.12 (certificate policies, requireExplicitPolicy, policy mappings,
 * inhibitPolicyMapping, inhibitAnyPolicy) through `processPolicies` alone, on the path that
 * `cases.json` gives (anchor first; the anchor itself is not processed).
 *
 * Every invalid case of these sections is invalid because of policy processing (the PKITS README's
 * list, re-derived with `openssl verify` without policy checks, names all of them), so each must fail
 * here; each valid case must pass with the user-constrained-policy-set Chromium expects.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseCertificate } from '../src/cert/parse.js';
import { processPolicies } from '../src/cert/policy.js';

interface PkitsCase {
  id: string;
  section: string;
  name: string;
  path: string[];
  expected: 'valid' | 'invalid';
  inputs: { initialPolicySet: string[]; initialExplicitPolicy: boolean; initialPolicyMappingInhibit: boolean; initialAnyPolicyInhibit: boolean };
  expectedUserConstrainedPolicySet: string[];
}

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const { cases } = JSON.parse(readFileSync(here('./conformance/pkits/cases.json'), 'utf8')) as { cases: PkitsCase[] };
const load = (name: string) => parseCertificate(new Uint8Array(readFileSync(here(`./conformance/pkits/certs/${name}.crt`))));

const policyCases = cases.filter((c) => /^4\.(8|9|10|11|12)\./.test(c.section));

describe('PKITS 4.8–4.12 through processPolicies', () => {
  it('has the expected number of cases', () => {
    // 35 (4.8) + 8 (4.9) + 21 (4.10) + 11 (4.11) + 11 (4.12) rows of cases.json.
    expect(policyCases.length).toBe(86);
  });

  for (const c of policyCases) {
    it(`${c.id} ${c.name} (${c.expected})`, () => {
      const path = c.path.slice(1).map(load);
      const r = processPolicies(path, {
        initialPolicySet: c.inputs.initialPolicySet,
        explicitPolicy: c.inputs.initialExplicitPolicy,
        policyMappingInhibit: c.inputs.initialPolicyMappingInhibit,
        anyPolicyInhibit: c.inputs.initialAnyPolicyInhibit,
      });
      if (c.expected === 'valid') {
        expect(r, JSON.stringify(r)).toMatchObject({ ok: true });
        if (r.ok) expect(r.userConstrainedPolicySet).toEqual([...c.expectedUserConstrainedPolicySet].sort());
      } else {
        expect(r.ok).toBe(false);
        if (!r.ok) {
          expect(r.message.length).toBeGreaterThan(20);
          if (r.certIndex !== undefined) {
            expect(r.certIndex).toBeGreaterThanOrEqual(0);
            expect(r.certIndex).toBeLessThan(path.length);
          }
        }
      }
    });
  }
});
