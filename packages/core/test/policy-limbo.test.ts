/**
 * x509-limbo cases that carry policy extensions, through `processPolicies` alone (default RFC 5280
 * inputs, as limbo uses). Only `rfc5280::pc::ica-noncritical-pc` has the has-policy-constraints
 * feature, and it is the only `rfc5280::pc::*` case; three more cases have certificatePolicies in
 * real-world form. None of them is invalid because of policy processing:
 *
 * - `rfc5280::pc::ica-noncritical-pc`: the ICA's policyConstraints (requireExplicitPolicy 3) is not
 *   critical, which RFC 5280 §4.2.1.11 forbids; policy processing itself succeeds (explicit_policy never
 *   reaches 0 on a 2-certificate path). Limbo expects the path to fail for the criticality alone, but
 *   PKITS has 16 certificates with a non-critical policyConstraints on *valid* paths (4.8.6, 4.8.10,
 *   4.8.13, 4.10.x …), so the two corpora conflict; the parser deliberately does not flag it, and
 *   whether validate.ts refuses it is the lead's call (PKITS wins there so far). Here the test pins
 *   down that policy processing itself accepts the path.
 * - `rfc5280::mismatching-signature-algorithm`: invalid because of its signature algorithm fields
 *   (the parser refuses the certificate).
 * - `webpki::cryptographydotio-chain`: valid; `…-missing-intermediate`: no path to the root.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ANY_POLICY, processPolicies } from '../src/cert/policy.js';
import { assemble, parsePem } from './name-constraints-chains.js';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
interface LimboCase { id: string; trusted_certs: string[]; untrusted_intermediates: string[]; peer_certificate: string; expected_result: string; features?: string[] }
const limbo = new Map(
  (JSON.parse(readFileSync(here('./conformance/limbo/limbo.json'), 'utf8')) as { testcases: LimboCase[] }).testcases.map((c) => [c.id, c]),
);
const applicable = (JSON.parse(readFileSync(here('./conformance/limbo/applicable.json'), 'utf8')) as { cases: { id: string; features?: string[] }[] }).cases;

const defaults = { initialPolicySet: [ANY_POLICY], explicitPolicy: false, policyMappingInhibit: false, anyPolicyInhibit: false };

function paths(id: string) {
  const c = limbo.get(id)!;
  return assemble(c.trusted_certs.map(parsePem), c.untrusted_intermediates.map(parsePem), parsePem(c.peer_certificate));
}

describe('x509-limbo policy cases', () => {
  it('the has-policy-constraints / rfc5280::pc selection is the one case', () => {
    const ids = applicable.filter((e) => e.id.startsWith('rfc5280::pc::') || (e.features ?? []).includes('has-policy-constraints')).map((e) => e.id);
    expect(ids).toEqual(['rfc5280::pc::ica-noncritical-pc']);
  });

  it('rfc5280::pc::ica-noncritical-pc: policy processing passes; the only defect is the criticality', () => {
    const ps = paths('rfc5280::pc::ica-noncritical-pc');
    expect(ps).toHaveLength(1);
    const [{ path }] = ps as [(typeof ps)[0]];
    expect(path[0]!.policyConstraints).toEqual({ requireExplicitPolicy: 3, inhibitPolicyMapping: null });
    expect(path[0]!.extensions.find((e) => e.oid === '2.5.29.36')?.critical).toBe(false);
    expect(processPolicies(path, defaults)).toEqual({ ok: true, userConstrainedPolicySet: [], authoritiesConstrainedPolicySet: [] });
    // With an explicit policy required, the policy-less path fails (the graph is NULL: no policies anywhere).
    expect(processPolicies(path, { ...defaults, explicitPolicy: true })).toMatchObject({ ok: false });
  });

  it('webpki::cryptographydotio-chain: real-world CA/B Forum policies pass', () => {
    const ps = paths('webpki::cryptographydotio-chain');
    expect(ps.length).toBeGreaterThan(0);
    for (const { path } of ps) {
      const r = processPolicies(path, defaults);
      expect(r.ok).toBe(true);
      if (r.ok) expect(r.userConstrainedPolicySet.length).toBeGreaterThan(0);
      // The leaf asserts the CA/B Forum domain-validated policy; asking for it explicitly works.
      expect(processPolicies(path, { ...defaults, initialPolicySet: ['2.23.140.1.2.1'], explicitPolicy: true })).toMatchObject({ ok: true, userConstrainedPolicySet: ['2.23.140.1.2.1'] });
      expect(processPolicies(path, { ...defaults, initialPolicySet: ['1.2.3.4'], explicitPolicy: true })).toMatchObject({ ok: false });
    }
  });

  it('rfc5280::mismatching-signature-algorithm: refused by the parser, not by policy processing', () => {
    expect(() => paths('rfc5280::mismatching-signature-algorithm')).toThrow(/signatureAlgorithm differs/);
  });

  it('webpki::cryptographydotio-chain-missing-intermediate: no path to assemble, so nothing for policies to decide', () => {
    expect(paths('webpki::cryptographydotio-chain-missing-intermediate')).toHaveLength(0);
  });
});
