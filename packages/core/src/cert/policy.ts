/**
 * @module
 * RFC 5280 §6.1 certificate-policy processing over one candidate path, using the policy *graph* of
 * RFC 9618 instead of the valid_policy_tree (the tree can grow exponentially with the path length;
 * the graph holds at most one node per policy OID per depth). Internal: `cert/validate.ts` calls
 * {@link processPolicies} once per candidate path.
 *
 * Path order: `path[0]` is the certificate issued by the trust anchor, `path[path.length - 1]` the
 * target. The anchor itself is not part of `path`: per RFC 5280 §6.1.1 (d) a trust anchor is a name
 * and a key, so its own policy extensions are not processed.
 *
 * Failures carry `certIndex` counted leaf first (0 = the target).
 */
import type { ParsedCertificate } from './model.js';
import { formatName } from './name.js';
import { ANY_POLICY } from './oids.js';

export { ANY_POLICY };

/** RFC 5280 §6.1.1 (c), (e), (f), (g) inputs. */
export interface PolicyInputs {
  /** user-initial-policy-set; `['2.5.29.32.0']` (anyPolicy) accepts every policy. */
  initialPolicySet: string[];
  /** initial-explicit-policy: the path must be valid for at least one policy of the initial set. */
  explicitPolicy: boolean;
  /** initial-policy-mapping-inhibit. */
  policyMappingInhibit: boolean;
  /** initial-any-policy-inhibit. */
  anyPolicyInhibit: boolean;
}

export type PolicyResult =
  | {
      ok: true;
      /**
       * RFC 5280 §6.1.5 (g) / RFC 9618: the policies of the initial set the path is valid for, in
       * the trust anchor's policy domain (before mappings). Contains `2.5.29.32.0` itself when the
       * initial set is anyPolicy and the path is valid for anyPolicy. Empty when no policy applies
       * (valid only when no explicit policy was required). Sorted.
       */
      userConstrainedPolicySet: string[];
      /**
       * The policies the CAs of the path allow, in the anchor's domain: `'any'` when the path is
       * valid for anyPolicy, else the sorted OIDs (empty when the policy graph became NULL).
       */
      authoritiesConstrainedPolicySet: string[] | 'any';
    }
  | { ok: false; certIndex?: number; message: string };

export interface PolicyOptions {
  /**
   * Bound on the policy graph: nodes plus edges created over the whole path. A path that exceeds it
   * fails (a certificate that legitimately needs that many policies does not exist). Default 4096.
   */
  maxGraphSize?: number;
}

const DEFAULT_MAX_GRAPH_SIZE = 4096;

interface PolicyNode {
  policy: string;
  expected: Set<string>;
  parents: PolicyNode[];
  children: number;
  alive: boolean;
}

type Level = Map<string, PolicyNode>;

class GraphLimitExceeded extends Error {}

/** Why the policy graph became NULL (kept for an actionable message). */
interface NullCause {
  /** Index into `path` (anchor first). */
  at: number;
  kind: 'absent' | 'no-match' | 'mapping-inhibited';
  policies?: string[];
}

/**
 * Runs RFC 5280 §6.1.2–§6.1.5 policy processing (RFC 9618 policy graph) over `path`.
 *
 * Never throws for anything about the certificates: a policy failure, a mapping to or from
 * anyPolicy, duplicate policy OIDs or a graph larger than `options.maxGraphSize` are results.
 */
export function processPolicies(
  path: ParsedCertificate[],
  inputs: PolicyInputs,
  options: PolicyOptions = {},
): PolicyResult {
  const n = path.length;
  if (n === 0) return { ok: false, message: 'The certification path is empty: there is no certificate to process policies for.' };
  const maxGraphSize = options.maxGraphSize ?? DEFAULT_MAX_GRAPH_SIZE;
  const leafFirst = (i: number): number => n - 1 - i;

  // §6.1.2 (a), (d), (e), (f).
  const root: PolicyNode = { policy: ANY_POLICY, expected: new Set([ANY_POLICY]), parents: [], children: 0, alive: true };
  let levels: Level[] | null = [new Map([[ANY_POLICY, root]])];
  let explicitPolicy = inputs.explicitPolicy ? 0 : n + 1;
  let inhibitAnyPolicy = inputs.anyPolicyInhibit ? 0 : n + 1;
  let policyMapping = inputs.policyMappingInhibit ? 0 : n + 1;
  /** Who last lowered explicit_policy (for the message): -1 = the initial-explicit-policy input. */
  let explicitSetBy: number | null = inputs.explicitPolicy ? -1 : null;
  let nullCause: NullCause | null = null;
  let size = 1;
  const grow = (k: number): void => {
    size += k;
    if (size > maxGraphSize) throw new GraphLimitExceeded();
  };

  try {
    for (let idx = 0; idx < n; idx++) {
      const cert = path[idx]!;
      const i = idx + 1; // RFC 5280 numbering: certificate i of n.
      const isLeaf = i === n;

      // §6.1.3 (d), (e).
      const policies = cert.certificatePolicies;
      if (policies !== undefined) {
        const seen = new Set<string>();
        for (const p of policies) {
          if (seen.has(p.oid)) {
            return {
              ok: false,
              certIndex: leafFirst(idx),
              message: `Certificate ${describe(cert)} lists certificate policy ${p.oid} more than once in its certificatePolicies extension (RFC 5280 §4.2.1.4); the issuing CA must re-issue it.`,
            };
          }
          seen.add(p.oid);
        }
      }
      if (levels !== null) {
        if (policies === undefined || policies.length === 0) {
          levels = null;
          nullCause = { at: idx, kind: 'absent' };
        } else {
          const prev = levels[i - 1]!;
          const cur: Level = new Map();
          // Index the previous depth by expected policy: expected -> nodes expecting it.
          const expecting = new Map<string, PolicyNode[]>();
          for (const node of prev.values()) {
            for (const e of node.expected) {
              let list = expecting.get(e);
              if (list === undefined) expecting.set(e, (list = []));
              list.push(node);
            }
          }
          const anyParent = prev.get(ANY_POLICY);
          let hasAnyPolicy = false;
          // (d)(1): each policy P other than anyPolicy.
          for (const p of policies) {
            if (p.oid === ANY_POLICY) {
              hasAnyPolicy = true;
              continue;
            }
            const matching = expecting.get(p.oid);
            const parents = matching !== undefined && matching.length > 0 ? matching : anyParent !== undefined ? [anyParent] : [];
            if (parents.length > 0) addNode(cur, p.oid, new Set([p.oid]), parents, grow);
          }
          // (d)(2): anyPolicy, when not inhibited (a self-issued intermediate may still use it).
          if (hasAnyPolicy && (inhibitAnyPolicy > 0 || (!isLeaf && cert.selfIssued))) {
            for (const [e, parents] of expecting) {
              if (!cur.has(e)) addNode(cur, e, new Set([e]), parents, grow);
            }
          }
          levels.push(cur);
          // (d)(3): prune nodes of depth i-1 or less that have no children.
          prune(levels, i - 1);
          if (cur.size === 0) {
            levels = null;
            nullCause = { at: idx, kind: 'no-match', policies: policies.map((p) => p.oid) };
          }
        }
      }

      // §6.1.3 (f).
      if (explicitPolicy === 0 && levels === null) return explicitFailure(path, nullCause, explicitSetBy, idx, inputs);

      if (isLeaf) break;

      // §6.1.4 (a), (b): policy mappings.
      const mappings = cert.policyMappings;
      if (mappings !== undefined) {
        for (const m of mappings) {
          if (m.issuerDomainPolicy === ANY_POLICY || m.subjectDomainPolicy === ANY_POLICY) {
            return {
              ok: false,
              certIndex: leafFirst(idx),
              message: `Certificate ${describe(cert)} maps ${m.issuerDomainPolicy === ANY_POLICY ? 'from' : 'to'} anyPolicy in its policyMappings extension (${m.issuerDomainPolicy} -> ${m.subjectDomainPolicy}), which RFC 5280 §6.1.4 (a) forbids; the issuing CA must re-issue it.`,
            };
          }
        }
        if (levels !== null) {
          const byIssuer = new Map<string, Set<string>>();
          for (const m of mappings) {
            let set = byIssuer.get(m.issuerDomainPolicy);
            if (set === undefined) byIssuer.set(m.issuerDomainPolicy, (set = new Set()));
            set.add(m.subjectDomainPolicy);
          }
          const cur = levels[i]!;
          if (policyMapping > 0) {
            // (b)(1)
            const anyNode = cur.get(ANY_POLICY);
            for (const [issuerPolicy, subjects] of byIssuer) {
              grow(subjects.size);
              const node = cur.get(issuerPolicy);
              if (node !== undefined) node.expected = subjects;
              else if (anyNode !== undefined) addNode(cur, issuerPolicy, subjects, anyNode.parents, grow);
            }
          } else {
            // (b)(2): mapping inhibited: the mapped issuer-domain policies are dropped.
            let deleted = false;
            for (const issuerPolicy of byIssuer.keys()) {
              const node = cur.get(issuerPolicy);
              if (node !== undefined) {
                removeNode(cur, node);
                deleted = true;
              }
            }
            if (deleted) {
              prune(levels, i - 1);
              if (cur.size === 0) {
                levels = null;
                nullCause = { at: idx, kind: 'mapping-inhibited', policies: [...byIssuer.keys()] };
              }
            }
          }
        }
      }

      // §6.1.4 (h): counters, unless the certificate is self-issued.
      if (!cert.selfIssued) {
        if (explicitPolicy > 0) explicitPolicy--;
        if (policyMapping > 0) policyMapping--;
        if (inhibitAnyPolicy > 0) inhibitAnyPolicy--;
      }
      // §6.1.4 (i), (j).
      const pc = cert.policyConstraints;
      if (pc !== undefined) {
        if (pc.requireExplicitPolicy !== null && pc.requireExplicitPolicy < explicitPolicy) {
          explicitPolicy = pc.requireExplicitPolicy;
          explicitSetBy = idx;
        }
        if (pc.inhibitPolicyMapping !== null && pc.inhibitPolicyMapping < policyMapping) policyMapping = pc.inhibitPolicyMapping;
      }
      if (cert.inhibitAnyPolicy !== undefined && cert.inhibitAnyPolicy < inhibitAnyPolicy) inhibitAnyPolicy = cert.inhibitAnyPolicy;
    }
  } catch (err) {
    if (err instanceof GraphLimitExceeded) {
      return {
        ok: false,
        message: `Certificate policy processing for the path ending in ${describe(path[n - 1]!)} exceeded its limit of ${maxGraphSize} policy graph nodes and edges; the chain asserts or maps far more policies than any real PKI needs and is refused.`,
      };
    }
    throw err;
  }

  // §6.1.5 (a), (b).
  const leafIdx = n - 1;
  const leaf = path[leafIdx]!;
  if (explicitPolicy > 0) explicitPolicy--;
  if (leaf.policyConstraints?.requireExplicitPolicy === 0) {
    explicitPolicy = 0;
    explicitSetBy = leafIdx;
  }

  // §6.1.5 (g) as RFC 9618 computes it: the authorities-constrained-policy-set is the set of
  // "root" policies of the depth-n nodes: the valid_policy of the first non-anyPolicy node on each
  // path from the root (anyPolicy when the whole path is anyPolicy). The intersection with the
  // user-initial-policy-set keeps a policy of the initial set when it is in that set or when that
  // set contains anyPolicy; the intersected graph is non-NULL exactly when the result is non-empty.
  const authorities = levels === null ? new Set<string>() : rootPolicies(levels[n]!);
  const initial = new Set(inputs.initialPolicySet);
  let userConstrained: string[];
  if (initial.has(ANY_POLICY)) userConstrained = [...authorities];
  else if (authorities.has(ANY_POLICY)) userConstrained = [...initial];
  else userConstrained = [...initial].filter((p) => authorities.has(p));
  userConstrained.sort();

  if (explicitPolicy === 0 && userConstrained.length === 0) {
    if (levels === null) return explicitFailure(path, nullCause, explicitSetBy, leafIdx, inputs);
    const valid = [...authorities].sort().join(', ');
    return {
      ok: false,
      certIndex: 0,
      message: `The path to ${describe(leaf)} is valid only for certificate policies ${valid}, none of which is acceptable (initial policy set: ${[...initial].sort().join(', ') || 'empty'}); issue the certificate under an acceptable policy or adjust initialPolicySet.`,
    };
  }

  return {
    ok: true,
    userConstrainedPolicySet: userConstrained,
    authoritiesConstrainedPolicySet: authorities.has(ANY_POLICY) ? 'any' : [...authorities].sort(),
  };
}

function addNode(level: Level, policy: string, expected: Set<string>, parents: PolicyNode[], grow: (k: number) => void): void {
  const existing = level.get(policy);
  if (existing !== undefined) {
    // RFC 9618: one node per policy per depth; further parents become extra edges.
    for (const p of parents) {
      if (!existing.parents.includes(p)) {
        grow(1);
        existing.parents.push(p);
        p.children++;
      }
    }
    return;
  }
  grow(1 + parents.length);
  const node: PolicyNode = { policy, expected, parents: [...parents], children: 0, alive: true };
  for (const p of parents) p.children++;
  level.set(policy, node);
}

function removeNode(level: Level, node: PolicyNode): void {
  node.alive = false;
  level.delete(node.policy);
  for (const p of node.parents) p.children--;
}

/** Deletes childless nodes at depth `from` and above (towards the root), repeatedly. */
function prune(levels: Level[], from: number): void {
  for (let d = from; d >= 0; d--) {
    const level = levels[d]!;
    for (const node of [...level.values()]) {
      if (node.children === 0) removeNode(level, node);
    }
  }
}

function rootPolicies(last: Level): Set<string> {
  const memo = new Map<PolicyNode, Set<string>>();
  const rootsOf = (node: PolicyNode): Set<string> => {
    const known = memo.get(node);
    if (known !== undefined) return known;
    const out = new Set<string>();
    if (node.policy === ANY_POLICY) out.add(ANY_POLICY);
    else {
      for (const parent of node.parents) {
        if (!parent.alive) continue;
        if (parent.policy === ANY_POLICY) out.add(node.policy);
        else for (const r of rootsOf(parent)) out.add(r);
      }
    }
    memo.set(node, out);
    return out;
  };
  const all = new Set<string>();
  for (const node of last.values()) for (const r of rootsOf(node)) all.add(r);
  return all;
}

function explicitFailure(
  path: ParsedCertificate[],
  cause: NullCause | null,
  setBy: number | null,
  detectedAt: number,
  inputs: PolicyInputs,
): PolicyResult {
  const n = path.length;
  const why =
    setBy === -1 || setBy === null
      ? inputs.explicitPolicy
        ? 'the validator requires an explicit policy (explicitPolicy option)'
        : 'the path requires an explicit policy'
      : `${describe(path[setBy]!)} requires an explicit policy (policyConstraints requireExplicitPolicy)`;
  const at = cause?.at ?? detectedAt;
  const cert = path[at]!;
  let what: string;
  switch (cause?.kind) {
    case 'absent':
      what = `certificate ${describe(cert)} has no certificatePolicies extension`;
      break;
    case 'no-match':
      what = `none of the certificate policies of ${describe(cert)} (${cause.policies!.join(', ')}) is allowed by the certificates above it`;
      break;
    case 'mapping-inhibited':
      what = `policy mapping is inhibited at ${describe(cert)}, and its mapped policies (${cause.policies!.join(', ')}) were the only ones left`;
      break;
    default:
      what = `no certificate policy is valid for the path at ${describe(cert)}`;
  }
  const msg = `No certificate policy is valid for the whole path: ${what}, but ${why}.`;
  return { ok: false, certIndex: n - 1 - at, message: msg.charAt(0).toUpperCase() + msg.slice(1) };
}

/** A quoted RFC 4514 form of a certificate's subject, for messages. */
function describe(cert: ParsedCertificate): string {
  if (cert.subject.empty) return '(a certificate with an empty subject)';
  const text = formatName(cert.subject);
  return `'${text.length > 120 ? `${text.slice(0, 120)}…` : text}'`;
}
