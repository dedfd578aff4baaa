/**
 * Differential property test: `processPolicies` (RFC 9618 policy graph) against a literal,
 * deliberately naive implementation of the RFC 5280 §6.1 valid_policy_tree written here, on random
 * short paths over a small policy pool (so the tree stays small). RFC 9618 states the graph is an
 * equivalent algorithm; this checks verdicts and user-constrained-policy-sets agree.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ParsedCertificate } from '../src/cert/model.js';
import { ANY_POLICY as ANY, processPolicies, type PolicyInputs } from '../src/cert/policy.js';
import { modelCert } from './policy-model.js';

interface TNode { policy: string; expected: Set<string>; children: TNode[]; parent: TNode | null; depth: number }

function naive(path: ParsedCertificate[], inputs: PolicyInputs): { ok: boolean; ucps: string[] } {
  const n = path.length;
  let root: TNode | null = { policy: ANY, expected: new Set([ANY]), children: [], parent: null, depth: 0 };
  let explicit = inputs.explicitPolicy ? 0 : n + 1;
  let inhibit = inputs.anyPolicyInhibit ? 0 : n + 1;
  let mapping = inputs.policyMappingInhibit ? 0 : n + 1;
  const at = (d: number): TNode[] => {
    const out: TNode[] = [];
    const walk = (x: TNode) => (x.depth === d ? out.push(x) : x.children.forEach(walk));
    if (root) walk(root);
    return out;
  };
  const add = (parent: TNode, policy: string, expected: Set<string>) =>
    parent.children.push({ policy, expected, children: [], parent, depth: parent.depth + 1 });
  const remove = (x: TNode) => {
    if (x.parent) x.parent.children = x.parent.children.filter((c) => c !== x);
    else root = null;
  };
  const prune = (below: number) => {
    for (let d = below - 1; d >= 0; d--) for (const x of at(d)) if (x.children.length === 0) remove(x);
  };
  for (let i = 1; i <= n; i++) {
    const cert = path[i - 1]!;
    const pols = cert.certificatePolicies?.map((p) => p.oid);
    if (pols && root) {
      const prev = at(i - 1);
      for (const p of pols) {
        if (p === ANY) continue;
        let matched = false;
        for (const x of prev) if (x.expected.has(p)) (add(x, p, new Set([p])), (matched = true));
        if (!matched) {
          const a = prev.find((x) => x.policy === ANY);
          if (a) add(a, p, new Set([p]));
        }
      }
      if (pols.includes(ANY) && (inhibit > 0 || (i < n && cert.selfIssued))) {
        for (const x of prev) for (const e of x.expected) if (!x.children.some((c) => c.policy === e)) add(x, e, new Set([e]));
      }
      prune(i);
      if (at(i).length === 0) root = null;
    } else root = null;
    if (explicit === 0 && root === null) return { ok: false, ucps: [] };
    if (i === n) break;
    const maps = cert.policyMappings;
    if (maps) {
      if (maps.some((m) => m.issuerDomainPolicy === ANY || m.subjectDomainPolicy === ANY)) return { ok: false, ucps: [] };
      if (root) {
        for (const idp of new Set(maps.map((m) => m.issuerDomainPolicy))) {
          const set = new Set(maps.filter((m) => m.issuerDomainPolicy === idp).map((m) => m.subjectDomainPolicy));
          const nodes = at(i).filter((x) => x.policy === idp);
          if (mapping > 0) {
            if (nodes.length > 0) for (const x of nodes) x.expected = set;
            else {
              const a = at(i).find((x) => x.policy === ANY);
              if (a) add(a.parent!, idp, set);
            }
          } else {
            nodes.forEach(remove);
            prune(i);
            if (root && at(i).length === 0) root = null;
          }
        }
      }
    }
    if (!cert.selfIssued) {
      if (explicit > 0) explicit--;
      if (mapping > 0) mapping--;
      if (inhibit > 0) inhibit--;
    }
    const pc = cert.policyConstraints;
    if (pc?.requireExplicitPolicy != null && pc.requireExplicitPolicy < explicit) explicit = pc.requireExplicitPolicy;
    if (pc?.inhibitPolicyMapping != null && pc.inhibitPolicyMapping < mapping) mapping = pc.inhibitPolicyMapping;
    if (cert.inhibitAnyPolicy !== undefined && cert.inhibitAnyPolicy < inhibit) inhibit = cert.inhibitAnyPolicy;
  }
  if (explicit > 0) explicit--;
  if (path[n - 1]!.policyConstraints?.requireExplicitPolicy === 0) explicit = 0;
  // §6.1.5 (g)(iii), literally.
  const initial = new Set(inputs.initialPolicySet);
  if (root && !initial.has(ANY)) {
    const all: TNode[] = [];
    for (let d = 1; d <= n; d++) all.push(...at(d));
    const nodeSet = all.filter((x) => x.parent?.policy === ANY);
    for (const x of nodeSet) if (x.policy !== ANY && !initial.has(x.policy)) remove(x);
    const leafAny = at(n).find((x) => x.policy === ANY);
    if (leafAny) {
      const parent = leafAny.parent!;
      remove(leafAny);
      for (const p of initial) if (!nodeSet.some((x) => x.policy === p)) add(parent, p, new Set([p]));
    }
    prune(n);
    if (root && at(n).length === 0) root = null;
  }
  const ok = explicit > 0 || root !== null;
  const ucps = new Set<string>();
  if (root) {
    const reaches = (x: TNode): boolean => x.depth === n || x.children.some(reaches);
    for (let d = 1; d <= n; d++) {
      for (const x of at(d)) if (x.parent?.policy === ANY && (x.policy !== ANY || d === n) && reaches(x)) ucps.add(x.policy);
    }
  }
  return { ok, ucps: [...ucps].sort() };
}

const pool = [ANY, '1.1', '1.2', '1.3'];
const specific = pool.slice(1);
const certArb = fc.record(
  {
    policies: fc.option(fc.uniqueArray(fc.constantFrom(...pool), { minLength: 1, maxLength: 4 }), { nil: undefined, freq: 4 }),
    mappings: fc.option(
      fc.array(fc.tuple(fc.constantFrom(...specific, ...specific, ANY), fc.constantFrom(...specific, ...specific, ...specific, ANY)), { minLength: 1, maxLength: 3 }),
      { nil: undefined, freq: 2 },
    ),
    rep: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined, freq: 3 }),
    ipm: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined, freq: 3 }),
    inhibitAny: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined, freq: 3 }),
    selfIssued: fc.boolean(),
  },
  { requiredKeys: ['selfIssued'] },
);
const inputsArb = fc.record({
  initialPolicySet: fc.uniqueArray(fc.constantFrom(...pool), { minLength: 1, maxLength: 3 }),
  explicitPolicy: fc.boolean(),
  policyMappingInhibit: fc.boolean(),
  anyPolicyInhibit: fc.boolean(),
});

type CertSpec = typeof certArb extends fc.Arbitrary<infer T> ? T : never;

function toPath(specs: CertSpec[]): ParsedCertificate[] {
  return specs.map((s, i) =>
    modelCert({
      subject: s.selfIssued && i > 0 ? `CA${i - 1}` : `CA${i}`,
      issuer: i === 0 ? 'anchor' : `CA${i - 1}`,
      ...(s.policies ? { policies: s.policies } : {}),
      ...(s.mappings ? { mappings: s.mappings } : {}),
      ...(s.rep !== undefined || s.ipm !== undefined
        ? { pc: { ...(s.rep !== undefined ? { requireExplicitPolicy: s.rep } : {}), ...(s.ipm !== undefined ? { inhibitPolicyMapping: s.ipm } : {}) } }
        : {}),
      ...(s.inhibitAny !== undefined ? { inhibitAnyPolicy: s.inhibitAny } : {}),
    }),
  );
}

describe('policy graph vs a literal RFC 5280 policy tree', () => {
  it('agree on the verdict and the user-constrained-policy-set', () => {
    let valid = 0;
    let withPolicies = 0;
    fc.assert(
      fc.property(fc.array(certArb, { minLength: 1, maxLength: 5 }), inputsArb, (specs, inputs) => {
        const path = toPath(specs);
        const want = naive(path, inputs);
        const got = processPolicies(path, inputs);
        expect(got.ok).toBe(want.ok);
        if (got.ok) {
          valid++;
          if (got.userConstrainedPolicySet.length > 0) withPolicies++;
          expect(got.userConstrainedPolicySet).toEqual(want.ucps);
        }
      }),
      { numRuns: 4000, seed: 20240618 },
    );
    // The generator must reach both outcomes, with and without policies, to mean anything.
    expect(valid).toBeGreaterThan(500);
    expect(withPolicies).toBeGreaterThan(200);
    expect(4000 - valid).toBeGreaterThan(500);
  });
});
