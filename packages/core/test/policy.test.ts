import { describe, expect, it } from 'vitest';
import { ANY_POLICY, processPolicies, type PolicyInputs } from '../src/cert/policy.js';
import { modelCert } from './policy-model.js';

const P1 = '2.16.840.1.101.3.2.1.48.1';
const P2 = '2.16.840.1.101.3.2.1.48.2';
const P3 = '2.16.840.1.101.3.2.1.48.3';
const P4 = '2.16.840.1.101.3.2.1.48.4';

const defaults: PolicyInputs = { initialPolicySet: [ANY_POLICY], explicitPolicy: false, policyMappingInhibit: false, anyPolicyInhibit: false };
const inputs = (over: Partial<PolicyInputs> = {}): PolicyInputs => ({ ...defaults, ...over });

describe('processPolicies: basics', () => {
  it('anyPolicy everywhere is valid for anyPolicy', () => {
    const path = [modelCert({ policies: [ANY_POLICY] }), modelCert({ policies: [ANY_POLICY] })];
    const r = processPolicies(path, inputs());
    expect(r).toEqual({ ok: true, userConstrainedPolicySet: [ANY_POLICY], authoritiesConstrainedPolicySet: 'any' });
    const r2 = processPolicies(path, inputs({ initialPolicySet: [P2, P1], explicitPolicy: true }));
    expect(r2).toEqual({ ok: true, userConstrainedPolicySet: [P1, P2], authoritiesConstrainedPolicySet: 'any' });
  });

  it('a path without policies is valid unless an explicit policy is required', () => {
    const path = [modelCert({ subject: 'CA' }), modelCert({ subject: 'leaf' })];
    expect(processPolicies(path, inputs())).toEqual({ ok: true, userConstrainedPolicySet: [], authoritiesConstrainedPolicySet: [] });
    const r = processPolicies(path, inputs({ explicitPolicy: true }));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    // The graph becomes NULL at the CA (leaf-first index 1), which is what must be fixed.
    expect(r.certIndex).toBe(1);
    expect(r.message).toContain("'CN=CA' has no certificatePolicies extension");
    expect(r.message).toContain('explicitPolicy option');
  });

  it('policies are intersected down the path', () => {
    const path = [modelCert({ policies: [P1, P2] }), modelCert({ policies: [P2, P3] })];
    expect(processPolicies(path, inputs())).toEqual({ ok: true, userConstrainedPolicySet: [P2], authoritiesConstrainedPolicySet: [P2] });
    // No overlap, explicit required: fails at the leaf.
    const bad = [modelCert({ policies: [P1] }), modelCert({ subject: 'leaf', policies: [P3] })];
    const r = processPolicies(bad, inputs({ explicitPolicy: true }));
    expect(r).toMatchObject({ ok: false, certIndex: 0 });
    if (!r.ok) expect(r.message).toContain(`none of the certificate policies of 'CN=leaf' (${P3})`);
    // Without explicit policy the path is still valid, for no policy.
    expect(processPolicies(bad, inputs())).toEqual({ ok: true, userConstrainedPolicySet: [], authoritiesConstrainedPolicySet: [] });
  });

  it('the user-initial-policy-set restricts the outcome', () => {
    const path = [modelCert({ policies: [P1, P2] }), modelCert({ policies: [P1, P2] })];
    expect(processPolicies(path, inputs({ initialPolicySet: [P2, P3] }))).toMatchObject({ ok: true, userConstrainedPolicySet: [P2] });
    const r = processPolicies(path, inputs({ initialPolicySet: [P3], explicitPolicy: true }));
    expect(r).toMatchObject({ ok: false, certIndex: 0 });
    if (!r.ok) expect(r.message).toContain(`valid only for certificate policies ${P1}, ${P2}`);
  });

  it('an empty path is a failure, not a crash', () => {
    expect(processPolicies([], inputs())).toMatchObject({ ok: false });
  });

  it('duplicate policy OIDs are refused', () => {
    const r = processPolicies([modelCert({ subject: 'dup', policies: [P1, P1] }), modelCert({ policies: [P1] })], inputs());
    expect(r).toMatchObject({ ok: false, certIndex: 1 });
    if (!r.ok) expect(r.message).toContain('more than once');
  });
});

describe('processPolicies: requireExplicitPolicy', () => {
  it('counts non-self-issued certificates', () => {
    // requireExplicitPolicy 1 at CA1: CA2 may lack policies, the leaf must be covered.
    const ca1 = modelCert({ subject: 'CA1', policies: [P1], pc: { requireExplicitPolicy: 1 } });
    const ca2 = modelCert({ subject: 'CA2', policies: [P1] });
    expect(processPolicies([ca1, ca2, modelCert({ policies: [P1] })], inputs())).toMatchObject({ ok: true, userConstrainedPolicySet: [P1] });
    const r = processPolicies([ca1, ca2, modelCert({ subject: 'leaf' })], inputs());
    expect(r).toMatchObject({ ok: false, certIndex: 0 });
    if (!r.ok) {
      expect(r.message).toContain("'CN=leaf' has no certificatePolicies");
      expect(r.message).toContain("'CN=CA1' requires an explicit policy");
    }
    // requireExplicitPolicy 2 with the same depth: explicit_policy reaches 0 only after the leaf.
    const lax = modelCert({ subject: 'CA1', policies: [P1], pc: { requireExplicitPolicy: 2 } });
    expect(processPolicies([lax, ca2, modelCert({ subject: 'leaf' })], inputs())).toMatchObject({ ok: false });
    const laxer = modelCert({ subject: 'CA1', policies: [P1], pc: { requireExplicitPolicy: 3 } });
    expect(processPolicies([laxer, ca2, modelCert({ subject: 'leaf' })], inputs())).toMatchObject({ ok: true, userConstrainedPolicySet: [] });
  });

  it('does not count a self-issued intermediate', () => {
    const ca1 = modelCert({ subject: 'CA1', policies: [P1], pc: { requireExplicitPolicy: 2 } });
    const rollover = modelCert({ subject: 'CA1', issuer: 'CA1', policies: [P1] });
    // With the self-issued certificate not counted, requireExplicitPolicy 2 still only needs the leaf... as
    // without it: explicit_policy stays > 0 through a leaf that has no policies.
    const plainCa2 = modelCert({ subject: 'CA2', policies: [P1] });
    expect(processPolicies([ca1, plainCa2, modelCert({})], inputs())).toMatchObject({ ok: false });
    expect(processPolicies([ca1, rollover, modelCert({})], inputs())).toMatchObject({ ok: true });
  });

  it('honours requireExplicitPolicy 0 in the leaf', () => {
    const path = [modelCert({ policies: [P1] }), modelCert({ subject: 'leaf', pc: { requireExplicitPolicy: 0 } })];
    const r = processPolicies(path, inputs());
    expect(r).toMatchObject({ ok: false, certIndex: 0 });
    if (!r.ok) expect(r.message).toContain("'CN=leaf' requires an explicit policy");
  });
});

describe('processPolicies: policy mapping', () => {
  it('maps issuer-domain policies to subject-domain policies; the result is in the anchor domain', () => {
    const ca = modelCert({ policies: [P1], mappings: [[P1, P2]] });
    const leaf = modelCert({ policies: [P2] });
    expect(processPolicies([ca, leaf], inputs())).toEqual({ ok: true, userConstrainedPolicySet: [P1], authoritiesConstrainedPolicySet: [P1] });
    expect(processPolicies([ca, leaf], inputs({ initialPolicySet: [P1], explicitPolicy: true }))).toMatchObject({ ok: true, userConstrainedPolicySet: [P1] });
    // P2 is the subject-domain name: not acceptable when the user asks for P2 in the anchor's domain.
    expect(processPolicies([ca, leaf], inputs({ initialPolicySet: [P2], explicitPolicy: true }))).toMatchObject({ ok: false });
    // After a mapping, the original policy no longer continues.
    expect(processPolicies([ca, modelCert({ policies: [P1] })], inputs({ explicitPolicy: true }))).toMatchObject({ ok: false, certIndex: 0 });
  });

  it('maps from an anyPolicy node when the CA asserts anyPolicy', () => {
    const ca = modelCert({ policies: [ANY_POLICY], mappings: [[P1, P3]] });
    const leaf = modelCert({ policies: [P3] });
    expect(processPolicies([ca, leaf], inputs())).toEqual({ ok: true, userConstrainedPolicySet: [P1], authoritiesConstrainedPolicySet: [P1] });
  });

  it('merges paths: two issuer policies mapped to one subject policy', () => {
    const ca = modelCert({ policies: [P1, P2], mappings: [[P1, P3], [P2, P3]] });
    const leaf = modelCert({ policies: [P3] });
    expect(processPolicies([ca, leaf], inputs())).toMatchObject({ ok: true, userConstrainedPolicySet: [P1, P2] });
    expect(processPolicies([ca, leaf], inputs({ initialPolicySet: [P2] }))).toMatchObject({ ok: true, userConstrainedPolicySet: [P2] });
  });

  it('refuses mappings to or from anyPolicy', () => {
    for (const m of [[ANY_POLICY, P1], [P1, ANY_POLICY]] as [string, string][]) {
      const r = processPolicies([modelCert({ subject: 'mapper', policies: [P1], mappings: [m] }), modelCert({ policies: [P1] })], inputs());
      expect(r).toMatchObject({ ok: false, certIndex: 1 });
      if (!r.ok) expect(r.message).toContain("'CN=mapper' maps");
    }
  });

  it('drops mapped policies when mapping is inhibited', () => {
    const ca = modelCert({ subject: 'mapper', policies: [P1], mappings: [[P1, P2]] });
    const leaf = modelCert({ policies: [P2] });
    const r = processPolicies([ca, leaf], inputs({ policyMappingInhibit: true, explicitPolicy: true }));
    expect(r).toMatchObject({ ok: false, certIndex: 1 });
    if (!r.ok) expect(r.message).toContain('policy mapping is inhibited');
    // inhibitPolicyMapping 0 in a CA stops mapping in the next CA.
    const top = modelCert({ policies: [P1], pc: { inhibitPolicyMapping: 0 } });
    expect(processPolicies([top, ca, leaf], inputs({ explicitPolicy: true }))).toMatchObject({ ok: false, certIndex: 1 });
    const top1 = modelCert({ policies: [P1], pc: { inhibitPolicyMapping: 1 } });
    expect(processPolicies([top1, ca, leaf], inputs({ explicitPolicy: true }))).toMatchObject({ ok: true, userConstrainedPolicySet: [P1] });
  });

  it('ignores mappings in the leaf', () => {
    const r = processPolicies([modelCert({ policies: [P1] }), modelCert({ policies: [P1], mappings: [[P1, P4]] })], inputs());
    expect(r).toMatchObject({ ok: true, userConstrainedPolicySet: [P1] });
  });
});

describe('processPolicies: inhibitAnyPolicy', () => {
  it('anyPolicy stops matching after the skip count', () => {
    const ca = modelCert({ policies: [P1], inhibitAnyPolicy: 0 });
    expect(processPolicies([ca, modelCert({ policies: [ANY_POLICY] })], inputs({ explicitPolicy: true }))).toMatchObject({ ok: false, certIndex: 0 });
    expect(processPolicies([ca, modelCert({ policies: [P1] })], inputs({ explicitPolicy: true }))).toMatchObject({ ok: true });
    const ca1 = modelCert({ policies: [P1], inhibitAnyPolicy: 1 });
    expect(processPolicies([ca1, modelCert({ policies: [ANY_POLICY] })], inputs({ explicitPolicy: true }))).toMatchObject({ ok: true, userConstrainedPolicySet: [P1] });
    expect(processPolicies([modelCert({ policies: [ANY_POLICY] })], inputs({ anyPolicyInhibit: true, explicitPolicy: true }))).toMatchObject({ ok: false });
  });

  it('a self-issued intermediate may still use anyPolicy, the leaf may not', () => {
    const ca = modelCert({ subject: 'CA', policies: [P1], inhibitAnyPolicy: 0 });
    const rollover = modelCert({ subject: 'CA', issuer: 'CA', policies: [ANY_POLICY] });
    expect(processPolicies([ca, rollover, modelCert({ policies: [P1] })], inputs({ explicitPolicy: true }))).toMatchObject({ ok: true, userConstrainedPolicySet: [P1] });
    const selfIssuedLeaf = modelCert({ subject: 'CA', issuer: 'CA', policies: [ANY_POLICY] });
    expect(processPolicies([ca, selfIssuedLeaf], inputs({ explicitPolicy: true }))).toMatchObject({ ok: false });
  });
});

describe('processPolicies: bounded work', () => {
  it('the mesh that blows up a policy tree stays small as a graph', () => {
    // Every CA asserts k policies and maps each to all k: a valid_policy_tree would have k^depth
    // leaves; the graph has k nodes and k^2 edges per depth.
    const k = 6;
    const ps = Array.from({ length: k }, (_, j) => `1.3.6.1.4.1.99999.1.${j}`);
    const mappings = ps.flatMap((a) => ps.map((b) => [a, b] as [string, string]));
    const path = [...Array.from({ length: 12 }, () => modelCert({ policies: ps, mappings })), modelCert({ policies: [ps[0]!] })];
    const r = processPolicies(path, inputs({ explicitPolicy: true }));
    expect(r).toEqual({ ok: true, userConstrainedPolicySet: [...ps].sort(), authoritiesConstrainedPolicySet: [...ps].sort() });
  });

  it('refuses a graph over the limit with a clear message', () => {
    const ps = Array.from({ length: 100 }, (_, j) => `1.3.6.1.4.1.99999.2.${j}`);
    const mappings = ps.flatMap((a) => ps.map((b) => [a, b] as [string, string]));
    const path = [...Array.from({ length: 3 }, () => modelCert({ policies: ps, mappings })), modelCert({ subject: 'leaf', policies: ps })];
    const r = processPolicies(path, inputs());
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/exceeded its limit of 4096 policy graph nodes and edges/);
    // A higher limit lets the same path through.
    expect(processPolicies(path, inputs(), { maxGraphSize: 100_000 })).toMatchObject({ ok: true });
  });
});
