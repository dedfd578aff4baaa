/**
 * @module
 * Identity and authorization rules: allow-lists over a *validated* {@link ClientIdentity} (subject,
 * CN / O / OU, SANs by type, SHA-256 fingerprint, SPKI pin, issuer, issuing CA), combined with
 * {@link allOf} / {@link anyOf} or a custom {@link predicate}, and {@link authorize}, which applies a
 * rule to a controller {@link Decision}. Adapters only pass their `rules` option through.
 *
 * Semantics (also in docs/adapters.md):
 * - Rules never run on an unvalidated certificate: only on `decision.identity`, which the controller
 *   sets only when the chain validated.
 * - `disabled`: rules are not evaluated (mTLS is off; the app's own auth applies).
 * - `optional`: a failing rule (or no validated certificate) is *reported* on the decision
 *   (`authorization.allowed: false`, and `action` becomes `allow-unverified`); the request goes on.
 * - `enforced`: a failing rule denies with 403 and the code `NOT_ALLOWED`, distinct from an untrusted
 *   chain (`CLIENT_CERT_UNTRUSTED`).
 * - A rule that throws (or a predicate that rejects) fails closed: it counts as "not allowed".
 * - Mounts compose: a gate mounted app-wide and again on a route with other rules applies both.
 *
 * Matching: name attributes compare as RFC 5280 §7.1 does (case-insensitive, insignificant spaces);
 * DNS names case-insensitively, with `*.example.com` matching exactly one extra label; e-mail
 * addresses with a case-insensitive domain, `@example.com` matching a whole domain; URIs and SPIFFE
 * IDs exactly; IPs by address or CIDR; fingerprints in any case, with or without colons; SPKI pins as
 * base64 (`pin-sha256`, optionally prefixed `sha256/`). Any string matcher may also be a RegExp
 * (yours; it runs on certificate text, so keep it linear).
 */
import { BlockList, isIP } from 'node:net';
import type { Decision } from '../controller/index.js';
import { CertgateOptionError } from '../errors.js';
import { Attr } from '../cert/oids.js';
import { attributeTypeName, normalizeValue } from '../cert/name.js';
import type { ClientIdentity } from '../types.js';

/** A text matcher: an exact value (compared as the rule kind says) or a RegExp. */
export type Matcher = string | RegExp;

/** An authorization rule. Build one with the `allow*` functions, {@link allOf}, {@link anyOf} or {@link predicate}. */
export interface Rule {
  /** What the rule checks, for logs (e.g. `commonName in ["alice"]`). Never shown to the client. */
  readonly description: string;
  /** True when `identity` passes. May be async (custom predicates). */
  test(identity: ClientIdentity): boolean | Promise<boolean>;
}

/** The outcome of {@link evaluateRule}. `rule` is the description of the rule that failed. */
export type RuleResult = { allowed: true } | { allowed: false; rule: string };

/** What {@link authorize} attaches to a decision as `decision.authorization`. */
export type Authorization =
  | { allowed: true }
  /** `rule` is null when there was no validated identity to check. */
  | { allowed: false; rule: string | null; message: string };

/** The 403 message of `NOT_ALLOWED`. It says nothing about the allow-list itself. */
export function notAllowedMessage(appName: string): string {
  return `Your client certificate is valid but not allowed to access ${appName} here. Ask the administrator for access.`;
}

// ————— helpers —————

const MAX_LIST = 10_000;
const NAME_OIDS: Record<string, string> = Object.fromEntries(Object.values(Attr).map((oid) => [attributeTypeName(oid).toLowerCase(), oid]));

function list<T>(fn: string, values: T | readonly T[], check: (v: unknown) => boolean, expected: string): T[] {
  const arr = (Array.isArray(values) ? values : [values]) as T[];
  if (arr.length === 0 || arr.length > MAX_LIST) throw new CertgateOptionError(`${fn}: give 1 to ${MAX_LIST} values`);
  for (const v of arr) if (!check(v)) throw new CertgateOptionError(`${fn}: every value must be ${expected}`);
  return arr;
}

const isMatcher = (v: unknown): boolean => (typeof v === 'string' && v.length > 0 && v.length <= 4096) || v instanceof RegExp;
const show = (m: Matcher): string => (typeof m === 'string' ? JSON.stringify(m) : String(m));
const describe = (what: string, ms: readonly Matcher[]): string =>
  `${what} in [${ms.slice(0, 5).map(show).join(', ')}${ms.length > 5 ? `, … ${ms.length - 5} more` : ''}]`;

/** A matcher set: exact values through `norm` into a Set, RegExps tested on the raw text. */
function matcherSet(ms: readonly Matcher[], norm: (s: string) => string): (value: string) => boolean {
  const exact = new Set<string>();
  const patterns: RegExp[] = [];
  for (const m of ms) {
    if (typeof m === 'string') exact.add(norm(m));
    else patterns.push(new RegExp(m.source, m.flags.replace(/[gy]/g, ''))); // no lastIndex state
  }
  return (value) => exact.has(norm(value)) || patterns.some((p) => p.test(value));
}

function rule(description: string, test: (id: ClientIdentity) => boolean | Promise<boolean>): Rule {
  return Object.freeze({ description, test });
}

/**
 * Parses an RFC 4514 string into a canonical key: RDNs in order, each a sorted `oid=normalised value`
 * list. Returns null when the text is not a distinguished name. Spaces around `,`, `+` and `=` are allowed.
 */
export function dnKey(text: string): string | null {
  if (typeof text !== 'string' || text.length > 65_536) return null;
  const rdns: string[] = [];
  let attrs: string[] = [];
  let i = 0;
  const n = text.length;
  if (text.trim() === '') return '';
  while (i <= n) {
    // type
    let j = text.indexOf('=', i);
    if (j < 0) return null;
    const type = text.slice(i, j).trim();
    const oid = /^\d+(\.\d+)+$/.test(type) ? type : NAME_OIDS[type.toLowerCase()];
    if (!oid) return null;
    i = j + 1;
    while (i < n && text[i] === ' ') i++;
    // value
    let value = '';
    let hex = false;
    if (text[i] === '#') {
      j = i + 1;
      while (j < n && /[0-9a-fA-F]/.test(text[j]!)) j++;
      value = text.slice(i + 1, j).toLowerCase();
      if (value.length === 0 || value.length % 2 !== 0) return null;
      hex = true;
      i = j;
    } else {
      let raw = '';
      let trailingEscaped = 0; // length of `raw` up to the last escaped char (escaped spaces are significant)
      while (i < n && text[i] !== ',' && text[i] !== '+' && text[i] !== ';') {
        const c = text[i]!;
        if (c === '\\') {
          const next = text.slice(i + 1, i + 3);
          if (/^[0-9a-fA-F]{2}$/.test(next)) {
            // a run of \XX is UTF-8
            const bytes: number[] = [];
            while (text[i] === '\\' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
              bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
              i += 3;
            }
            raw += Buffer.from(bytes).toString('utf8');
          } else if (i + 1 < n) {
            raw += text[i + 1];
            i += 2;
          } else return null;
          trailingEscaped = raw.length;
          continue;
        }
        raw += c;
        i++;
      }
      // unescaped trailing spaces are not part of the value
      let end = raw.length;
      while (end > trailingEscaped && raw[end - 1] === ' ') end--;
      value = raw.slice(0, end);
    }
    attrs.push(`${oid}=${hex ? '#' : 's'}${hex ? value : normalizeValue(value)}`);
    while (i < n && text[i] === ' ') i++;
    if (i >= n) break;
    const sep = text[i]!;
    if (sep === '+') {
      i++;
    } else if (sep === ',' || sep === ';') {
      rdns.push(attrs.sort().map((a) => `${a.length}:${a}`).join(''));
      attrs = [];
      i++;
    } else return null;
    while (i < n && text[i] === ' ') i++;
    if (i >= n) return null; // trailing separator
  }
  rdns.push(attrs.sort().map((a) => `${a.length}:${a}`).join(''));
  return rdns.map((r) => `${r.length};${r}`).join('');
}

function dnMatchers(fn: string, values: Matcher | readonly Matcher[]): { ms: Matcher[]; test: (dn: string) => boolean } {
  const ms = list<Matcher>(fn, values, isMatcher, 'an RFC 4514 string (e.g. "CN=alice,O=Example") or a RegExp');
  const keys = new Set<string>();
  const patterns: RegExp[] = [];
  for (const m of ms) {
    if (typeof m === 'string') {
      const k = dnKey(m);
      if (k === null) throw new CertgateOptionError(`${fn}: ${JSON.stringify(m.slice(0, 80))} is not an RFC 4514 distinguished name`);
      keys.add(k);
    } else patterns.push(new RegExp(m.source, m.flags.replace(/[gy]/g, '')));
  }
  return { ms, test: (dn) => { const k = dnKey(dn); return (k !== null && keys.has(k)) || patterns.some((p) => p.test(dn)); } };
}

function attributeRule(fn: string, what: string, oid: string, values: Matcher | readonly Matcher[]): Rule {
  const ms = list<Matcher>(fn, values, isMatcher, 'a non-empty string or a RegExp');
  const match = matcherSet(ms, normalizeValue);
  return rule(describe(what, ms), (id) => id.subjectAttributes.some((a) => a.oid === oid && match(a.value)));
}

// ————— allow-lists —————

/** The subject DN (RFC 4514, as `identity.subject` prints it: most specific RDN first) is one of `dns`. */
export function allowSubjects(dns: Matcher | readonly Matcher[]): Rule {
  const { ms, test } = dnMatchers('allowSubjects', dns);
  return rule(describe('subject', ms), (id) => test(id.subject));
}

/** A commonName of the subject is one of `names`. */
export function allowCommonNames(names: Matcher | readonly Matcher[]): Rule {
  return attributeRule('allowCommonNames', 'commonName', Attr.commonName, names);
}

/** An organization (O) of the subject is one of `names`. */
export function allowOrganizations(names: Matcher | readonly Matcher[]): Rule {
  return attributeRule('allowOrganizations', 'organization', Attr.organization, names);
}

/** An organizational unit (OU) of the subject is one of `names`. */
export function allowOrganizationalUnits(names: Matcher | readonly Matcher[]): Rule {
  return attributeRule('allowOrganizationalUnits', 'organizationalUnit', Attr.organizationalUnit, names);
}

const lowerDns = (s: string): string => s.toLowerCase().replace(/\.$/, '');

/** A DNS SAN is one of `names` (case-insensitive; `*.example.com` matches exactly one more label). */
export function allowDnsNames(names: Matcher | readonly Matcher[]): Rule {
  const ms = list<Matcher>('allowDnsNames', names, isMatcher, 'a DNS name, "*.domain" or a RegExp');
  const wild = ms.filter((m): m is string => typeof m === 'string' && m.startsWith('*.')).map((m) => lowerDns(m.slice(1)));
  const match = matcherSet(ms.filter((m) => !(typeof m === 'string' && m.startsWith('*.'))), lowerDns);
  return rule(describe('dNSName SAN', ms), (id) =>
    id.san.dns.some((d) => {
      if (match(d)) return true;
      const l = lowerDns(d);
      return wild.some((w) => l.endsWith(w) && l.length > w.length && !l.slice(0, l.length - w.length).includes('.'));
    }),
  );
}

function normEmail(s: string): string {
  const at = s.lastIndexOf('@');
  return at < 0 ? s : `${s.slice(0, at)}@${s.slice(at + 1).toLowerCase()}`;
}

/** An rfc822Name SAN is one of `addresses` (domain case-insensitive); `@example.com` allows the whole domain. */
export function allowEmails(addresses: Matcher | readonly Matcher[]): Rule {
  const ms = list<Matcher>('allowEmails', addresses, isMatcher, 'an e-mail address, "@domain" or a RegExp');
  const domains = new Set(ms.filter((m): m is string => typeof m === 'string' && m.startsWith('@')).map((m) => m.slice(1).toLowerCase()));
  const match = matcherSet(ms.filter((m) => !(typeof m === 'string' && m.startsWith('@'))), normEmail);
  return rule(describe('rfc822Name SAN', ms), (id) =>
    id.san.email.some((e) => match(e) || (e.includes('@') && domains.has(e.slice(e.lastIndexOf('@') + 1).toLowerCase()))),
  );
}

/** A URI SAN is exactly one of `uris` (or matches a RegExp). */
export function allowUris(uris: Matcher | readonly Matcher[]): Rule {
  const ms = list<Matcher>('allowUris', uris, isMatcher, 'a URI or a RegExp');
  const match = matcherSet(ms, (s) => s);
  return rule(describe('URI SAN', ms), (id) => id.san.uri.some(match));
}

/**
 * The certificate's SPIFFE ID (its one `spiffe://` URI SAN) is exactly one of `ids`, or matches a RegExp.
 * A certificate with more than one `spiffe://` URI has no SPIFFE ID (the SPIFFE X.509-SVID rule) and fails.
 */
export function allowSpiffeIds(ids: Matcher | readonly Matcher[]): Rule {
  const ms = list<Matcher>('allowSpiffeIds', ids, (v) => v instanceof RegExp || (typeof v === 'string' && v.toLowerCase().startsWith('spiffe://') && v.length <= 2048), 'a spiffe:// ID or a RegExp');
  const match = matcherSet(ms, (s) => s);
  return rule(describe('SPIFFE ID', ms), (id) => id.san.spiffeId !== null && match(id.san.spiffeId));
}

/** An iPAddress SAN is one of `addresses` or inside one of the CIDR blocks (`10.0.0.0/8`, `fd00::/8`). */
export function allowIps(addresses: string | readonly string[]): Rule {
  const ms = list<string>('allowIps', addresses, (v) => typeof v === 'string' && v.length <= 64, 'an IP address or CIDR string');
  const block = new BlockList();
  for (const m of ms) {
    const [addr, bits, extra] = m.split('/');
    const fam = isIP(addr ?? '');
    const prefix = bits === undefined ? null : Number(bits);
    if (fam === 0 || extra !== undefined || (prefix !== null && (!/^\d{1,3}$/.test(bits!) || prefix > (fam === 4 ? 32 : 128)))) {
      throw new CertgateOptionError(`allowIps: ${JSON.stringify(m)} is not an IP address or CIDR block`);
    }
    const type = fam === 4 ? 'ipv4' : 'ipv6';
    if (prefix === null) block.addAddress(addr!, type);
    else block.addSubnet(addr!, prefix, type);
  }
  return rule(describe('iPAddress SAN', ms), (id) =>
    id.san.ip.some((ip) => {
      const fam = isIP(ip);
      return fam !== 0 && block.check(ip, fam === 4 ? 'ipv4' : 'ipv6');
    }),
  );
}

const hexOnly = (s: string): string => s.replace(/:/g, '').toUpperCase();

/** The leaf's SHA-256 fingerprint is one of `fingerprints` (hex, any case, colons optional). */
export function allowFingerprints(fingerprints: string | readonly string[]): Rule {
  const ms = list<string>('allowFingerprints', fingerprints, (v) => typeof v === 'string' && /^[0-9a-fA-F]{64}$/.test(hexOnly(v)), 'a SHA-256 fingerprint (64 hex digits, colons optional)');
  const set = new Set(ms.map(hexOnly));
  return rule(describe('fingerprint256', ms), (id) => set.has(hexOnly(id.fingerprint256)));
}

/** The leaf's SPKI SHA-256 pin (base64, the `pin-sha256` form; `sha256/` prefix allowed) is one of `pins`. */
export function allowSpkiPins(pins: string | readonly string[]): Rule {
  const strip = (p: string): string => p.replace(/^sha256\//, '');
  const ms = list<string>('allowSpkiPins', pins, (v) => typeof v === 'string' && /^[A-Za-z0-9+/]{43}=$/.test(strip(v)), 'a base64 SHA-256 SPKI pin (44 characters)');
  const set = new Set(ms.map(strip));
  return rule(describe('spkiSha256', ms), (id) => set.has(id.spkiSha256));
}

/** The leaf's issuer DN (RFC 4514, as `identity.issuer` prints it) is one of `dns`. */
export function allowIssuers(dns: Matcher | readonly Matcher[]): Rule {
  const { ms, test } = dnMatchers('allowIssuers', dns);
  return rule(describe('issuer', ms), (id) => test(id.issuer));
}

/** A CA of the validated path (an intermediate or the trust anchor) has one of these SHA-256 fingerprints. */
export function allowIssuingCas(fingerprints: string | readonly string[]): Rule {
  const ms = list<string>('allowIssuingCas', fingerprints, (v) => typeof v === 'string' && /^[0-9a-fA-F]{64}$/.test(hexOnly(v)), 'a SHA-256 fingerprint (64 hex digits, colons optional)');
  const set = new Set(ms.map(hexOnly));
  return rule(describe('issuing CA fingerprint256', ms), (id) => id.chainFingerprints256.slice(1).some((f) => set.has(hexOnly(f))));
}

// ————— combinators —————

function checkRules(fn: string, rules: readonly Rule[]): Rule[] {
  if (rules.length === 0 || rules.length > 1000) throw new CertgateOptionError(`${fn}: give 1 to 1000 rules`);
  for (const r of rules) if (!isRule(r)) throw new CertgateOptionError(`${fn}: every argument must be a Rule (built with allow*, allOf, anyOf or predicate)`);
  return [...rules];
}

function isRule(r: unknown): r is Rule {
  return typeof r === 'object' && r !== null && typeof (r as Rule).test === 'function' && typeof (r as Rule).description === 'string';
}

/** Passes when every rule passes (evaluated in order, stopping at the first failure). */
export function allOf(...rules: Rule[]): Rule {
  const rs = checkRules('allOf', rules);
  const r: Rule & { [FAIL]: (id: ClientIdentity) => Promise<string | null> } = {
    description: `allOf(${rs.map((x) => x.description).join('; ')})`,
    async test(id) {
      return (await r[FAIL](id)) === null;
    },
    async [FAIL](id) {
      for (const x of rs) {
        const f = await firstFailure(x, id);
        if (f !== null) return f;
      }
      return null;
    },
  };
  return Object.freeze(r);
}

/** Passes when at least one rule passes (evaluated in order, stopping at the first pass). */
export function anyOf(...rules: Rule[]): Rule {
  const rs = checkRules('anyOf', rules);
  const description = `anyOf(${rs.map((x) => x.description).join('; ')})`;
  return rule(description, async (id) => {
    for (const x of rs) if ((await firstFailure(x, id)) === null) return true;
    return false;
  });
}

/**
 * A custom rule: `fn(identity)` returns (or resolves to) true to allow. Anything else, a throw or a
 * rejection denies. `description` names it in logs.
 */
export function predicate(fn: (identity: Readonly<ClientIdentity>) => boolean | Promise<boolean>, description = 'custom predicate'): Rule {
  if (typeof fn !== 'function') throw new CertgateOptionError('predicate: "fn" must be a function (identity) => boolean');
  if (typeof description !== 'string' || description.length === 0 || description.length > 200) throw new CertgateOptionError('predicate: "description" must be 1–200 characters');
  return rule(description, async (id) => (await fn(id)) === true);
}

const FAIL = Symbol('certgate.rule.firstFailure');

/** The description of the innermost failing rule (through allOf), or null when `r` passes. Fails closed on a throw. */
async function firstFailure(r: Rule, id: ClientIdentity): Promise<string | null> {
  try {
    const inner = (r as { [FAIL]?: (id: ClientIdentity) => Promise<string | null> })[FAIL];
    if (inner) return await inner(id);
    return (await r.test(id)) === true ? null : r.description;
  } catch {
    return `${r.description} (threw)`;
  }
}

/** Turns the `rules` option (a Rule or a list meaning all of them) into one Rule; undefined stays undefined. */
export function resolveRules(rules: Rule | readonly Rule[] | undefined, fn = 'rules'): Rule | undefined {
  if (rules === undefined) return undefined;
  if (Array.isArray(rules)) return rules.length === 0 ? undefined : allOf(...checkRules(fn, rules));
  if (!isRule(rules)) throw new CertgateOptionError(`${fn}: "rules" must be a Rule or a list of Rules`);
  return rules as Rule;
}

/** Evaluates `rule` on a validated identity. Never throws: a throwing rule is a failure. */
export async function evaluateRule(rule: Rule, identity: ClientIdentity): Promise<RuleResult> {
  const failed = await firstFailure(rule, identity);
  return failed === null ? { allowed: true } : { allowed: false, rule: failed };
}

/**
 * Applies `rules` to a controller decision (per request; the decision itself is per connection).
 * Returns the decision unchanged when there are no rules, it is already a denial, the mode is
 * `disabled`, or an earlier mount's rules already failed on it; otherwise a copy with `authorization`
 * set and, on failure, `action` lowered to `allow-unverified` (optional) or `deny` with `NOT_ALLOWED`
 * (enforced). Adapters pass the decision an earlier mount attached, so the rules of every mount on
 * a request's way apply (all of them must pass).
 *
 * @example
 * const decision = await authorize(await decideSocket(controller, req.socket), allowCommonNames('alice'), controller.appName);
 */
export async function authorize(decision: Decision, rules: Rule | readonly Rule[] | undefined, appName: string): Promise<Decision> {
  const r = resolveRules(rules);
  if (!r || decision.action === 'deny' || decision.mode === 'disabled') return decision;
  // Mounts compose: an earlier mount's failed rules stay failed, whatever this mount's rules say.
  if (decision.authorization?.allowed === false) return decision;
  const identity = decision.identity;
  let authorization: Authorization;
  if (identity !== null && decision.verdict?.ok === true) {
    const result = await evaluateRule(r, identity);
    if (result.allowed) return { ...decision, authorization: { allowed: true } };
    authorization = { allowed: false, rule: result.rule, message: 'The validated client certificate does not satisfy the rules of this route.' };
  } else {
    authorization = { allowed: false, rule: null, message: 'No validated client certificate to check the rules of this route against.' };
  }
  if (decision.mode === 'optional') return { ...decision, action: 'allow-unverified', authorization };
  return { ...decision, action: 'deny', authorization, denial: { code: 'NOT_ALLOWED', message: notAllowedMessage(appName) } };
}
