/**
 * @module
 * RFC 5280 name constraints (§4.2.1.10) as path validation applies them (§6.1.3 (b)(c),
 * §6.1.4 (g)). Internal: `cert/validate.ts` calls {@link checkNameConstraints} once per candidate path.
 *
 * Path order: `path[0]` is the certificate issued by the trust anchor, `path[path.length - 1]` the
 * target. Failures carry `certIndex` counted leaf first (0 = the target, `path.length - 1` = the
 * certificate issued by the anchor): always the certificate whose name fails, the message naming
 * the CA whose constraint it fails (a malformed constraint too is reported on the certificate whose
 * name it would have to decide).
 *
 * Instead of computing the intersection of permitted subtrees, every CA's constraints are kept as
 * they are and a name must satisfy each of them: per name form, a name is inside the intersection of
 * the permitted sets exactly when it is inside at least one subtree of every CA that constrains that
 * form, and outside the union of the excluded sets exactly when no excluded subtree of any CA holds it.
 *
 * Trust anchors: RFC 5280 §6.1.1 makes a trust anchor a name and a key, with constraints optional
 * input. certgate honours the nameConstraints extension of an anchor certificate (as x509-limbo's
 * `rfc5280::nc::*` cases expect, and as an administrator who uploads a name-constrained CA means):
 * the anchor's constraints apply to every certificate of the path.
 *
 * Fail closed: a constraint of a form certgate cannot check (otherName, x400Address, ediPartyName,
 * registeredID) or one that is malformed (a dNSName with a leading dot or a wildcard, an rfc822Name
 * with two `@`, an IP constraint that is not address+contiguous mask …) rejects the path as soon as
 * a certificate it applies to has a name of that form whose membership it would decide; it is ignored
 * otherwise. Likewise a malformed name (a dNSName `.example.com`, an 8-octet iPAddress SAN) is
 * refused when a constraint of its form applies. The work is bounded by `maxComparisons`.
 */
import { isStringTag } from '../der/reader.js';
import type { Attribute, GeneralName, Name, ParsedCertificate } from './model.js';
import { formatName, normalizeValue } from './name.js';
import { Attr } from './oids.js';

export type NameConstraintsResult =
  | { ok: true }
  | { ok: false; certIndex: number; message: string; code: 'NAME_CONSTRAINTS' | 'PATH_BUILDING_LIMIT' };

export interface NameConstraintsOptions {
  /**
   * Upper bound on (name, constraint) comparisons over the whole path. Beyond it the path is refused
   * with code `PATH_BUILDING_LIMIT` (hostile certificates with thousands of names and constraints).
   * Default 65536 (2^16).
   */
  maxComparisons?: number;
}

export const DEFAULT_MAX_COMPARISONS = 1 << 16;

type OtherForm = 'x400' | 'otherName' | 'ediParty' | 'registeredID';
type Form = 'dns' | 'email' | 'uri' | 'ip' | 'dn' | OtherForm;

/** A constraint prepared for matching; `bad` says why it cannot be interpreted. */
type Constraint =
  | { form: 'dns'; text: string; value: string; bad?: string }
  | { form: 'email'; text: string; kind: 'mailbox' | 'host' | 'domain'; local: string; domain: string; bad?: string }
  | { form: 'uri'; text: string; kind: 'host' | 'domain'; domain: string; bad?: string }
  | { form: 'ip'; text: string; addr: Uint8Array; mask: Uint8Array; bad?: string }
  | { form: 'dn'; text: string; rdns: string[][]; bad?: string }
  | { form: OtherForm; text: string; bad?: string };

/** A certificate name prepared for matching; `bad` says why it cannot be checked. */
type SubjectName = SubjectNameForm & { fromSubject?: true };
type SubjectNameForm =
  | { form: 'dns'; text: string; value: string; wildcard: boolean; bad?: string }
  | { form: 'email'; text: string; local: string; domain: string; bad?: string }
  | { form: 'uri'; text: string; host: string; bad?: string }
  | { form: 'ip'; text: string; addr: Uint8Array; bad?: string }
  | { form: 'dn'; text: string; rdns: string[][]; bad?: string }
  | { form: OtherForm; text: string; bad?: string };

interface ConstraintSet {
  /** "the CA 'CN=…'" / "the trust anchor 'CN=…'", for messages. */
  by: string;
  permitted: Map<Form, Constraint[]>;
  excluded: Map<Form, Constraint[]>;
}

class LimitExceeded extends Error {}

/**
 * Checks the names of every certificate of `path` against the name constraints of the CAs above it
 * (and of `anchor`, when given). Self-issued intermediates are exempt; the target never is.
 * Never throws for anything about the certificates.
 */
export function checkNameConstraints(
  path: ParsedCertificate[],
  anchor: ParsedCertificate | null,
  options: NameConstraintsOptions = {},
): NameConstraintsResult {
  const n = path.length;
  const max = options.maxComparisons ?? DEFAULT_MAX_COMPARISONS;
  const sets: ConstraintSet[] = [];
  let comparisons = 0;
  const count = (): void => {
    if (++comparisons > max) throw new LimitExceeded();
  };

  if (anchor?.nameConstraints !== undefined) sets.push(prepareSet(anchor, 'the trust anchor'));
  try {
    for (let idx = 0; idx < n; idx++) {
      const cert = path[idx]!;
      const isLeaf = idx === n - 1;
      if (sets.length > 0 && (isLeaf || !cert.selfIssued)) {
        const failure = checkCertificate(cert, n - 1 - idx, sets, count);
        if (failure !== null) return failure;
      }
      if (!isLeaf && cert.nameConstraints !== undefined) sets.push(prepareSet(cert, 'the CA'));
    }
  } catch (err) {
    if (err instanceof LimitExceeded) {
      const leaf = path[n - 1];
      return {
        ok: false,
        code: 'PATH_BUILDING_LIMIT',
        certIndex: 0,
        message: `Checking the name constraints of the path to certificate ${leaf ? quote(leaf.subject) : '(none)'} needs more than ${max} name comparisons; certificates with that many names and constraints are refused as a denial-of-service risk.`,
      };
    }
    throw err;
  }
  return { ok: true };
}

function checkCertificate(
  cert: ParsedCertificate,
  certIndex: number,
  sets: ConstraintSet[],
  count: () => void,
): NameConstraintsResult | null {
  for (const name of namesOf(cert)) {
    for (const set of sets) {
      const excluded = set.excluded.get(name.form);
      const permitted = set.permitted.get(name.form);
      if (excluded === undefined && permitted === undefined) continue;
      const fail = (why: string): NameConstraintsResult => ({
        ok: false,
        code: 'NAME_CONSTRAINTS',
        certIndex,
        message: `Certificate ${quote(cert.subject)} has ${describeName(name)}, ${why}.`,
      });
      if (name.bad !== undefined) {
        return fail(`which is not a well-formed name (${name.bad}) and so cannot be checked against the name constraints of ${set.by}`);
      }
      if (!CHECKABLE.has(name.form)) {
        return fail(`a name form certgate cannot check, and ${set.by} constrains that form`);
      }
      if (excluded !== undefined) {
        for (const c of excluded) {
          count();
          if (c.bad !== undefined) {
            return fail(`and ${set.by} has an excluded ${FORM_LABEL[c.form]} constraint "${clip(c.text)}" that certgate cannot interpret (${c.bad}), so it refuses the name`);
          }
          if (excludedMatch(name, c)) {
            return fail(`which is inside the subtree "${clip(c.text)}" that ${set.by} excludes`);
          }
        }
      }
      if (permitted !== undefined) {
        let ok = false;
        let bad: Constraint | undefined;
        for (const c of permitted) {
          count();
          if (c.bad !== undefined) {
            bad ??= c;
            continue;
          }
          if (permittedMatch(name, c)) {
            ok = true;
            break;
          }
        }
        if (!ok) {
          const list = permitted.slice(0, 4).map((c) => `"${clip(c.text)}"`).join(', ') + (permitted.length > 4 ? `, … (${permitted.length} in all)` : '');
          const extra = bad !== undefined ? `; the constraint "${clip(bad.text)}" cannot be interpreted (${bad.bad})` : '';
          return fail(`which is outside the ${FORM_LABEL[name.form]} subtrees that ${set.by} permits (${list}${extra})`);
        }
      }
    }
  }
  return null;
}

const CHECKABLE = new Set<Form>(['dns', 'email', 'uri', 'ip', 'dn']);

const FORM_LABEL: Record<Form, string> = {
  dns: 'dNSName',
  email: 'rfc822Name',
  uri: 'uniformResourceIdentifier',
  ip: 'iPAddress',
  dn: 'directoryName',
  x400: 'x400Address',
  otherName: 'otherName',
  ediParty: 'ediPartyName',
  registeredID: 'registeredID',
};

function describeName(name: SubjectName): string {
  const what = name.fromSubject ? (name.form === 'dn' ? 'the subject name' : 'the subject emailAddress') : `the subjectAltName ${FORM_LABEL[name.form]}`;
  return `${what} "${clip(name.text)}"`;
}

function prepareSet(cert: ParsedCertificate, who: string): ConstraintSet {
  const nc = cert.nameConstraints!;
  const group = (list: GeneralName[] | null): Map<Form, Constraint[]> => {
    const m = new Map<Form, Constraint[]>();
    for (const g of list ?? []) {
      const c = prepareConstraint(g);
      let arr = m.get(c.form);
      if (arr === undefined) m.set(c.form, (arr = []));
      arr.push(c);
    }
    return m;
  };
  return { by: `${who} ${quote(cert.subject)}`, permitted: group(nc.permitted), excluded: group(nc.excluded) };
}

// ---------------------------------------------------------------------------------------------
// Names of a certificate

function namesOf(cert: ParsedCertificate): SubjectName[] {
  const out: SubjectName[] = [];
  if (!cert.subject.empty) out.push({ form: 'dn', text: formatName(cert.subject), rdns: rdnKeys(cert.subject), fromSubject: true });
  const san = cert.subjectAltName ?? [];
  let sanEmail = false;
  for (const g of san) {
    const s = prepareName(g);
    if (s.form === 'email') sanEmail = true;
    out.push(s);
  }
  // RFC 5280 §4.2.1.10: rfc822Name constraints also apply to emailAddress attributes of the subject.
  // The RFC says "when the certificate does not include a subject alternative name"; certgate applies
  // them whenever the SAN holds no rfc822Name (a superset of that case, so never less strict).
  if (!sanEmail) {
    for (const attr of attributes(cert.subject, Attr.emailAddress)) {
      if (attr.text === null) out.push({ form: 'email', text: '(not a string)', local: '', domain: '', bad: 'the attribute value is not a string', fromSubject: true });
      else out.push({ ...prepareMailbox(attr.text), fromSubject: true });
    }
  }
  return out;
}

function attributes(name: Name, oid: string): Attribute[] {
  const out: Attribute[] = [];
  for (const rdn of name.rdns) for (const a of rdn) if (a.oid === oid) out.push(a);
  return out;
}

function prepareName(g: GeneralName): SubjectName {
  switch (g.type) {
    case 'dns': {
      const v = g.value.toLowerCase();
      if (v.startsWith('*.')) {
        const base = v.slice(2);
        const bad = dnsSyntax(base, false);
        return bad === null ? { form: 'dns', text: g.value, value: base, wildcard: true } : { form: 'dns', text: g.value, value: base, wildcard: true, bad };
      }
      const bad = dnsSyntax(v, false);
      return bad === null ? { form: 'dns', text: g.value, value: v, wildcard: false } : { form: 'dns', text: g.value, value: v, wildcard: false, bad };
    }
    case 'email':
      return prepareMailbox(g.value);
    case 'uri': {
      const host = uriHost(g.value);
      if (typeof host !== 'string') return { form: 'uri', text: g.value, host: '', bad: host.bad };
      return { form: 'uri', text: g.value, host };
    }
    case 'ip': {
      const ok = g.value.length === 4 || g.value.length === 16;
      const text = ok ? ipText(g.value) : `${g.value.length} octets`;
      return ok ? { form: 'ip', text, addr: g.value } : { form: 'ip', text, addr: g.value, bad: 'an iPAddress name must be 4 or 16 octets' };
    }
    case 'dn':
      return { form: 'dn', text: formatName(g.value), rdns: rdnKeys(g.value) };
    case 'other':
      return { form: otherForm(g.tag), text: g.oid !== undefined ? `${FORM_LABEL[otherForm(g.tag)]} ${g.oid}` : FORM_LABEL[otherForm(g.tag)] };
  }
}

function prepareMailbox(value: string): SubjectName & { form: 'email' } {
  const m = splitMailbox(value);
  if (typeof m === 'string') return { form: 'email', text: value, local: '', domain: '', bad: m };
  return { form: 'email', text: value, local: m.local, domain: m.domain };
}

function otherForm(tag: number): OtherForm {
  switch (tag) {
    case 0:
      return 'otherName';
    case 3:
      return 'x400';
    case 5:
      return 'ediParty';
    default:
      return 'registeredID';
  }
}

// ---------------------------------------------------------------------------------------------
// Constraints

function prepareConstraint(g: GeneralName): Constraint {
  switch (g.type) {
    case 'dns': {
      const v = g.value.toLowerCase();
      if (v === '') return { form: 'dns', text: g.value, value: '' };
      let bad: string | null;
      if (v.startsWith('.')) bad = 'RFC 5280 §4.2.1.10 gives dNSName constraints no leading-dot form (that is the URI form)';
      else bad = dnsSyntax(v, true);
      return bad === null ? { form: 'dns', text: g.value, value: v } : { form: 'dns', text: g.value, value: v, bad };
    }
    case 'email': {
      const v = g.value;
      if (v.includes('@')) {
        const m = splitMailbox(v);
        if (typeof m === 'string') return { form: 'email', text: v, kind: 'mailbox', local: '', domain: '', bad: m };
        return { form: 'email', text: v, kind: 'mailbox', local: m.local, domain: m.domain };
      }
      const domain = v.startsWith('.') ? v.slice(1).toLowerCase() : v.toLowerCase();
      const kind = v.startsWith('.') ? 'domain' : 'host';
      if (v === '') return { form: 'email', text: v, kind: 'host', local: '', domain: '', bad: 'the constraint is empty' };
      const bad = dnsSyntax(domain, true);
      return bad === null ? { form: 'email', text: v, kind, local: '', domain } : { form: 'email', text: v, kind, local: '', domain, bad };
    }
    case 'uri': {
      const v = g.value;
      const kind = v.startsWith('.') ? 'domain' : 'host';
      const domain = (kind === 'domain' ? v.slice(1) : v).toLowerCase();
      let bad: string | null = null;
      if (v === '') bad = 'the constraint is empty';
      else if (/[/:@?#[\]]/.test(domain)) bad = 'a URI constraint must be a host or a .domain, not a URI';
      else bad = dnsSyntax(domain, true);
      return bad === null ? { form: 'uri', text: v, kind, domain } : { form: 'uri', text: v, kind, domain, bad };
    }
    case 'ip': {
      const len = g.value.length;
      if (len !== 8 && len !== 32) return { form: 'ip', text: `${len} octets`, addr: g.value, mask: g.value, bad: 'an iPAddress constraint must be 8 or 32 octets (address and mask)' };
      const addr = g.value.subarray(0, len / 2);
      const mask = g.value.subarray(len / 2);
      const prefix = maskPrefix(mask);
      const text = `${ipText(addr)}/${prefix ?? ipText(mask)}`;
      if (prefix === null) return { form: 'ip', text, addr, mask, bad: 'the mask is not contiguous' };
      return { form: 'ip', text, addr, mask };
    }
    case 'dn':
      return { form: 'dn', text: formatName(g.value) || '(empty name)', rdns: rdnKeys(g.value) };
    case 'other': {
      const form = otherForm(g.tag);
      return { form, text: g.oid !== undefined ? `${FORM_LABEL[form]} ${g.oid}` : FORM_LABEL[form] };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Matching

function permittedMatch(name: SubjectName, c: Constraint): boolean {
  switch (name.form) {
    case 'dns':
      // A wildcard "*.S" stands for every "L.S": all of them are inside the subtree exactly when S is.
      return c.form === 'dns' && dnsWithin(name.value, c.value);
    case 'email':
      return c.form === 'email' && emailMatch(name, c);
    case 'uri':
      return c.form === 'uri' && hostMatch(name.host, c.kind, c.domain);
    case 'ip':
      return c.form === 'ip' && ipMatch(name.addr, c.addr, c.mask);
    case 'dn':
      return c.form === 'dn' && dnWithin(name.rdns, c.rdns);
    default:
      return false;
  }
}

function excludedMatch(name: SubjectName, c: Constraint): boolean {
  if (name.form === 'dns' && name.wildcard && c.form === 'dns') {
    // Defensive (x509-limbo cve-2025-61727): refuse "*.S" when some "L.S" it would match as a peer
    // name is excluded: S itself is inside the excluded subtree, or the subtree is one label below S.
    if (dnsWithin(name.value, c.value)) return true;
    const dot = c.value.indexOf('.');
    return dot > 0 ? c.value.slice(dot + 1) === name.value : name.value === '';
  }
  return permittedMatch(name, c);
}

/** dNSName: `name` is `constraint` or has it as a label-wise suffix; the empty constraint holds everything. */
function dnsWithin(name: string, constraint: string): boolean {
  if (constraint === '') return true;
  if (name === constraint) return true;
  return name.length > constraint.length && name.endsWith(constraint) && name.charCodeAt(name.length - constraint.length - 1) === 0x2e;
}

/** host / .domain constraint on a host (URI form, and the domain part of rfc822Name). */
function hostMatch(host: string, kind: 'host' | 'domain' | 'mailbox', domain: string): boolean {
  if (kind === 'domain') return host.length > domain.length && host.endsWith(domain) && host.charCodeAt(host.length - domain.length - 1) === 0x2e;
  return host === domain;
}

function emailMatch(name: SubjectName & { form: 'email' }, c: Constraint & { form: 'email' }): boolean {
  // The local part is case-sensitive (RFC 5321 §2.4), the domain is not.
  if (c.kind === 'mailbox') return name.local === c.local && name.domain === c.domain;
  return hostMatch(name.domain, c.kind, c.domain);
}

function ipMatch(addr: Uint8Array, base: Uint8Array, mask: Uint8Array): boolean {
  if (addr.length !== base.length) return false; // IPv4 constraints never match IPv6 names and vice versa.
  for (let i = 0; i < addr.length; i++) if ((addr[i]! & mask[i]!) !== (base[i]! & mask[i]!)) return false;
  return true;
}

/** directoryName: the constraint's RDNs are a prefix of the name's (RFC 5280 §7.1 comparison per RDN). */
function dnWithin(name: string[][], constraint: string[][]): boolean {
  if (constraint.length > name.length) return false;
  for (let i = 0; i < constraint.length; i++) {
    const a = name[i]!;
    const b = constraint[i]!;
    if (a.length !== b.length) return false;
    for (let j = 0; j < a.length; j++) if (a[j] !== b[j]) return false;
  }
  return true;
}

/** Each RDN as its sorted attribute keys: type plus the §7.1-normalised string value (or the DER). */
function rdnKeys(name: Name): string[][] {
  return name.rdns.map((rdn) =>
    rdn
      .map((a) => (a.text !== null && isStringTag(a.tag) ? `${a.oid}=s${normalizeValue(a.text)}` : `${a.oid}=d${hex(a.valueDer)}`))
      .sort(),
  );
}

// ---------------------------------------------------------------------------------------------
// Syntax helpers

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?$/;

/** null when `v` (lower case) is a syntactically usable DNS name, else why not. */
function dnsSyntax(v: string, isConstraint: boolean): string | null {
  if (v.length === 0) return 'it is empty';
  if (v.length > 253) return 'it is longer than 253 characters';
  if (v.includes('*')) return isConstraint ? 'a constraint cannot hold a wildcard' : 'a wildcard is only allowed as the whole leftmost label';
  if (v.startsWith('.')) return 'it starts with a dot';
  if (v.endsWith('.')) return 'it ends with a dot';
  for (const label of v.split('.')) {
    if (label.length === 0) return 'it has an empty label';
    if (label.length > 63) return 'a label is longer than 63 characters';
    if (!LABEL.test(label)) return `the label "${clip(label, 20)}" is not a DNS label`;
  }
  return null;
}

/** local@domain, the domain lower-cased; a string saying why when it is not a usable mailbox. */
function splitMailbox(v: string): { local: string; domain: string } | string {
  let local: string;
  let rest: string;
  if (v.startsWith('"')) {
    // Quoted local part (RFC 5321 §4.1.2): everything up to the closing quote is literal.
    let i = 1;
    for (; i < v.length; i++) {
      if (v[i] === '\\') i++;
      else if (v[i] === '"') break;
    }
    if (i >= v.length) return 'its quoted local part is not closed';
    local = v.slice(0, i + 1);
    rest = v.slice(i + 1);
    if (!rest.startsWith('@')) return 'it is not local-part@domain';
    rest = rest.slice(1);
  } else {
    const at = v.indexOf('@');
    if (at <= 0) return 'it is not local-part@domain';
    local = v.slice(0, at);
    rest = v.slice(at + 1);
    if (rest.includes('@')) return 'it holds more than one @';
    if (/[\s"(),:;<>[\\\]]/.test(local)) return 'its local part has characters that need quoting';
  }
  const domain = rest.toLowerCase();
  const bad = dnsSyntax(domain, true);
  if (bad !== null) return `its domain is not usable: ${bad}`;
  return { local, domain };
}

/** The host of an absolute URI with an authority, lower-cased; `{ bad }` when there is none to check. */
function uriHost(uri: string): string | { bad: string } {
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/.exec(uri);
  if (m === null) return { bad: 'the URI has no authority (//host), so it has no host to check' };
  let authority = m[1]!;
  const at = authority.lastIndexOf('@');
  if (at >= 0) authority = authority.slice(at + 1);
  if (authority.startsWith('[')) return { bad: 'the URI host is an IP literal, which a domain constraint cannot decide' };
  const colon = authority.indexOf(':');
  const host = (colon >= 0 ? authority.slice(0, colon) : authority).toLowerCase();
  if (host === '') return { bad: 'the URI has an empty host' };
  if (/^[0-9.]+$/.test(host)) return { bad: 'the URI host is an IP address, which a domain constraint cannot decide' };
  const bad = dnsSyntax(host, true);
  if (bad !== null) return { bad: `the URI host is not a DNS name: ${bad}` };
  return host;
}

/** The prefix length of a contiguous mask, or null. */
function maskPrefix(mask: Uint8Array): number | null {
  let bits = 0;
  let zero = false;
  for (const b of mask) {
    for (let bit = 7; bit >= 0; bit--) {
      if ((b >> bit) & 1) {
        if (zero) return null;
        bits++;
      } else zero = true;
    }
  }
  return bits;
}

function ipText(b: Uint8Array): string {
  if (b.length === 4) return [...b].join('.');
  if (b.length !== 16) return hex(b);
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((b[i]! << 8) | b[i + 1]!);
  // RFC 5952: the longest run (of two or more) of zero words becomes "::".
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const text = (ws: number[]): string => ws.map((w) => w.toString(16)).join(':');
  if (best < 0) return text(words);
  return `${text(words.slice(0, best))}::${text(words.slice(best + bestLen))}`;
}

function hex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

function quote(name: Name): string {
  return name.empty ? '(empty subject)' : `'${clip(formatName(name), 120)}'`;
}

function clip(s: string, max = 100): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
