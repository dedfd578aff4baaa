/**
 * checkNameConstraints on real certificates generated with @certgate/core/testing (and parsed by the
 * strict parser), one block per name form, plus hand-built model objects for what DER generation
 * cannot express (forms the parser rejects, otherName/registeredID constraints).
 */
import { describe, expect, it } from 'vitest';
import { createCa, type IssueOptions, type NameConstraintsSpec, type SanSpec, type TestCa } from '@certgate/core/testing';
import type { ParsedCertificate } from '../src/cert/model.js';
import { checkNameConstraints } from '../src/cert/name-constraints.js';
import { parseCertificate } from '../src/cert/parse.js';
import { modelCert } from './policy-model.js';

const parse = (c: { der: Uint8Array }): ParsedCertificate => parseCertificate(c.der);

interface Built {
  anchor: ParsedCertificate;
  path: ParsedCertificate[];
}

/** root (optional NC) -> intermediate (NC) -> leaf (SAN / subject). */
async function build(opts: { rootNc?: NameConstraintsSpec; caNc?: NameConstraintsSpec; leaf?: IssueOptions }): Promise<Built> {
  const root = await createCa(opts.rootNc ? { nameConstraints: opts.rootNc } : {});
  const ca = await root.issueIntermediate(opts.caNc ? { nameConstraints: opts.caNc } : {});
  const leaf = await ca.issue(opts.leaf ?? {});
  return { anchor: parse(root), path: [parse(ca), parse(leaf)] };
}

let sharedRoot: TestCa | undefined;
const cas = new Map<string, TestCa>();
/** An intermediate with `nc` under one shared root (cached by spec), and a leaf with `san`/`subject`. */
async function leafUnder(nc: NameConstraintsSpec, leaf: IssueOptions): Promise<Built> {
  sharedRoot ??= await createCa({ subject: 'CN=NC test root' });
  const key = JSON.stringify(nc);
  let ca = cas.get(key);
  if (ca === undefined) {
    ca = await sharedRoot.issueIntermediate({ subject: 'CN=Constrained CA, O=certgate', nameConstraints: nc });
    cas.set(key, ca);
  }
  return { anchor: parse(sharedRoot), path: [parse(ca), parse(await ca.issue(leaf))] };
}

async function verdict(nc: NameConstraintsSpec, san: SanSpec, subject?: string): Promise<ReturnType<typeof checkNameConstraints>> {
  const b = await leafUnder(nc, { san, ...(subject !== undefined ? { subject } : {}) });
  return checkNameConstraints(b.path, b.anchor);
}
const okFor = async (nc: NameConstraintsSpec, san: SanSpec, subject?: string) => (await verdict(nc, san, subject)).ok;

describe('dNSName', () => {
  const permit = { permitted: { dns: ['example.com'] } };
  it('matches label-wise suffixes, case-insensitively', async () => {
    expect(await okFor(permit, { dns: ['example.com'] })).toBe(true);
    expect(await okFor(permit, { dns: ['a.b.example.com'] })).toBe(true);
    expect(await okFor(permit, { dns: ['WWW.Example.COM'] })).toBe(true);
    expect(await okFor(permit, { dns: ['badexample.com'] })).toBe(false);
    expect(await okFor(permit, { dns: ['example.com.evil.org'] })).toBe(false);
    expect(await okFor(permit, { dns: ['example.org'] })).toBe(false);
  });

  it('requires every name of the form to be permitted', async () => {
    expect(await okFor(permit, { dns: ['a.example.com', 'b.example.com'] })).toBe(true);
    const r = await verdict(permit, { dns: ['a.example.com', 'other.org'] });
    expect(r).toMatchObject({ ok: false, code: 'NAME_CONSTRAINTS', certIndex: 0 });
    if (!r.ok) {
      expect(r.message).toContain('"other.org"');
      expect(r.message).toContain("permits (\"example.com\")");
      expect(r.message).toContain("the CA 'O=certgate,CN=Constrained CA'");
    }
  });

  it('excluded wins over permitted', async () => {
    const nc = { permitted: { dns: ['example.com'] }, excluded: { dns: ['secret.example.com'] } };
    expect(await okFor(nc, { dns: ['www.example.com'] })).toBe(true);
    const r = await verdict(nc, { dns: ['x.secret.example.com'] });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain('inside the subtree "secret.example.com"');
  });

  it('an empty constraint matches every name', async () => {
    expect(await okFor({ permitted: { dns: [''] } }, { dns: ['anything.test'] })).toBe(true);
    expect(await okFor({ excluded: { dns: [''] } }, { dns: ['anything.test'] })).toBe(false);
    expect(await okFor({ excluded: { dns: [''] } }, { email: ['a@anything.test'] })).toBe(true);
  });

  it('a leading-dot constraint is not a dNSName form: refused when a DNS name must be decided', async () => {
    const nc = { permitted: { dns: ['.example.com'] } };
    const r = await verdict(nc, { dns: ['foo.example.com'] });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain('cannot be interpreted');
    // Another well-formed permitted subtree still admits the name; no DNS name, nothing to decide.
    expect(await okFor({ permitted: { dns: ['.example.com', 'example.com'] } }, { dns: ['foo.example.com'] })).toBe(true);
    expect(await okFor(nc, { email: ['a@example.com'] })).toBe(true);
    expect(await okFor({ excluded: { dns: ['.example.com'] } }, { dns: ['foo.other.org'] })).toBe(false);
  });

  it('wildcard SANs: permitted when every name they match is, refused when one could be excluded', async () => {
    expect(await okFor({ permitted: { dns: ['example.com'] } }, { dns: ['*.example.com'] })).toBe(true);
    expect(await okFor({ permitted: { dns: ['foo.example.com'] } }, { dns: ['*.example.com'] })).toBe(false);
    expect(await okFor({ excluded: { dns: ['bar.example.com'] } }, { dns: ['*.example.com'] })).toBe(false);
    expect(await okFor({ excluded: { dns: ['example.com'] } }, { dns: ['*.example.com'] })).toBe(false);
    // Two labels below the wildcard's base: "*.example.com" can never match it.
    expect(await okFor({ excluded: { dns: ['a.bar.example.com'] } }, { dns: ['*.example.com'] })).toBe(true);
    expect(await okFor({ excluded: { dns: ['example.org'] } }, { dns: ['*.example.com'] })).toBe(true);
  });

  it('malformed DNS names are refused only where a DNS constraint applies', async () => {
    expect(await okFor({ permitted: { dns: ['example.com'] } }, { dns: ['a..example.com'] })).toBe(false);
    expect(await okFor({ permitted: { dns: ['example.com'] } }, { dns: ['f*o.example.com'] })).toBe(false);
    expect(await okFor({ permitted: { email: ['example.com'] } }, { dns: ['a..example.com'] })).toBe(true);
  });
});

describe('rfc822Name', () => {
  it('mailbox, host and .domain forms', async () => {
    expect(await okFor({ permitted: { email: ['alice@example.com'] } }, { email: ['alice@EXAMPLE.com'] })).toBe(true);
    // The local part is case-sensitive.
    expect(await okFor({ permitted: { email: ['alice@example.com'] } }, { email: ['Alice@example.com'] })).toBe(false);
    expect(await okFor({ permitted: { email: ['example.com'] } }, { email: ['bob@example.com'] })).toBe(true);
    expect(await okFor({ permitted: { email: ['example.com'] } }, { email: ['bob@mail.example.com'] })).toBe(false);
    expect(await okFor({ permitted: { email: ['.example.com'] } }, { email: ['bob@mail.example.com'] })).toBe(true);
    expect(await okFor({ permitted: { email: ['.example.com'] } }, { email: ['bob@example.com'] })).toBe(false);
    expect(await okFor({ excluded: { email: ['.example.com'] } }, { email: ['bob@a.b.example.com'] })).toBe(false);
  });

  it('applies to subject emailAddress attributes when the SAN has no email', async () => {
    const nc = { permitted: { email: ['example.com'] } };
    expect(await okFor(nc, { dns: ['host.test'] }, 'CN=alice, E=alice@example.com')).toBe(true);
    const r = await verdict(nc, { dns: ['host.test'] }, 'CN=mallory, E=mallory@evil.test');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain('"mallory@evil.test"');
    expect(await okFor(nc, {}, 'CN=mallory, E=mallory@evil.test')).toBe(false);
    // With a SAN rfc822Name, the SAN is what is constrained (RFC 5280 §4.2.1.10).
    expect(await okFor(nc, { email: ['alice@example.com'] }, 'CN=x, E=old@elsewhere.test')).toBe(true);
  });

  it('refuses malformed mailboxes and constraints', async () => {
    expect(await okFor({ permitted: { email: ['example.com'] } }, { email: ['a@b@example.com'] })).toBe(false);
    expect(await okFor({ permitted: { email: ['a@b@example.com'] } }, { email: ['a@example.com'] })).toBe(false);
    // A quoted local part may hold "@".
    expect(await okFor({ permitted: { email: ['example.com'] } }, { email: ['"a@b"@example.com'] })).toBe(true);
  });
});

describe('uniformResourceIdentifier', () => {
  it('constrains the host; host and .domain forms', async () => {
    expect(await okFor({ permitted: { uri: ['example.com'] } }, { uri: ['https://example.com/path?q'] })).toBe(true);
    expect(await okFor({ permitted: { uri: ['example.com'] } }, { uri: ['https://user@EXAMPLE.com:8443/'] })).toBe(true);
    expect(await okFor({ permitted: { uri: ['example.com'] } }, { uri: ['https://www.example.com/'] })).toBe(false);
    expect(await okFor({ permitted: { uri: ['.example.com'] } }, { uri: ['https://www.example.com/'] })).toBe(true);
    expect(await okFor({ permitted: { uri: ['.example.com'] } }, { uri: ['https://example.com/'] })).toBe(false);
    expect(await okFor({ excluded: { uri: ['example.com'] } }, { uri: ['ldap://example.com/cn=x'] })).toBe(false);
  });

  it('a URI without a host fails under a URI constraint, and passes without one', async () => {
    const r = await verdict({ permitted: { uri: ['example.com'] } }, { uri: ['urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66'] });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain('no authority');
    expect(await okFor({ excluded: { uri: ['example.com'] } }, { uri: ['spiffe://example.org/workload'] })).toBe(true);
    expect(await okFor({ excluded: { uri: ['example.com'] } }, { uri: ['https://[2001:db8::1]/'] })).toBe(false);
    expect(await okFor({ permitted: { dns: ['example.com'] } }, { uri: ['urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66'] })).toBe(true);
  });
});

describe('iPAddress', () => {
  it('address + mask, IPv4 and IPv6', async () => {
    expect(await okFor({ permitted: { ip: ['192.0.2.0/24'] } }, { ip: ['192.0.2.77'] })).toBe(true);
    expect(await okFor({ permitted: { ip: ['192.0.2.0/24'] } }, { ip: ['192.0.3.1'] })).toBe(false);
    expect(await okFor({ permitted: { ip: ['10.0.0.0/8', '192.0.2.0/24'] } }, { ip: ['10.200.1.1'] })).toBe(true);
    expect(await okFor({ excluded: { ip: ['192.0.2.128/25'] } }, { ip: ['192.0.2.1'] })).toBe(true);
    expect(await okFor({ excluded: { ip: ['192.0.2.128/25'] } }, { ip: ['192.0.2.200'] })).toBe(false);
    expect(await okFor({ permitted: { ip: ['2001:db8::/32'] } }, { ip: ['2001:db8:1::5'] })).toBe(true);
    const r = await verdict({ permitted: { ip: ['2001:db8::/32'] } }, { ip: ['2001:db9::5'] });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain('"2001:db9::5"');
  });

  it('IPv4 constraints never match IPv6 names and vice versa', async () => {
    expect(await okFor({ permitted: { ip: ['0.0.0.0/0'] } }, { ip: ['::ffff:192.0.2.1'] })).toBe(false);
    expect(await okFor({ excluded: { ip: ['0.0.0.0/0'] } }, { ip: ['2001:db8::1'] })).toBe(true);
    expect(await okFor({ permitted: { ip: ['::/0'] } }, { ip: ['192.0.2.1'] })).toBe(false);
  });

  it('fails closed on malformed constraints the parser would not produce', () => {
    const root = modelCert({ subject: 'root' });
    const base = new Uint8Array([192, 0, 2, 0]);
    const nonContiguous = modelCert({ subject: 'CA', nameConstraints: { permitted: [{ type: 'ip', value: new Uint8Array([...base, 255, 0, 255, 0]) }], excluded: null } });
    const shortOne = modelCert({ subject: 'CA', nameConstraints: { permitted: null, excluded: [{ type: 'ip', value: base }] } });
    const leaf = modelCert({ subject: 'leaf', san: [{ type: 'ip', value: new Uint8Array([192, 0, 2, 1]) }] });
    for (const ca of [nonContiguous, shortOne]) {
      const r = checkNameConstraints([ca, leaf], root);
      expect(r).toMatchObject({ ok: false, code: 'NAME_CONSTRAINTS', certIndex: 0 });
    }
    const badName = modelCert({ subject: 'leaf', san: [{ type: 'ip', value: new Uint8Array(8) }] });
    const goodCa = modelCert({ subject: 'CA', nameConstraints: { permitted: [{ type: 'ip', value: new Uint8Array([...base, 255, 255, 255, 0]) }], excluded: null } });
    expect(checkNameConstraints([goodCa, badName], root)).toMatchObject({ ok: false });
  });
});

describe('directoryName', () => {
  it('prefix RDN match with RFC 5280 §7.1 comparison', async () => {
    const nc = { permitted: { dn: ['C=US, O=Example'] } };
    expect(await okFor(nc, {}, 'C=US, O=Example, CN=alice')).toBe(true);
    expect(await okFor(nc, {}, 'C=US, O=Example')).toBe(true);
    expect(await okFor(nc, {}, 'C=US, O=Other, CN=alice')).toBe(false);
    expect(await okFor(nc, {}, 'C=US, CN=alice')).toBe(false);
    // Case and insignificant spaces do not matter.
    expect(await okFor(nc, {}, 'C=us, O=  EXAMPLE , CN=alice')).toBe(true);
    // RDN order matters.
    expect(await okFor(nc, {}, 'O=Example, C=US, CN=alice')).toBe(false);
  });

  it('excluded subtrees and the empty subject', async () => {
    const nc = { excluded: { dn: ['C=US, O=Example, OU=Revoked'] } };
    expect(await okFor(nc, {}, 'C=US, O=Example, OU=Revoked, CN=bob')).toBe(false);
    expect(await okFor(nc, {}, 'C=US, O=Example, OU=Staff, CN=bob')).toBe(true);
    // An empty subject is not checked against directoryName constraints.
    expect(await okFor({ permitted: { dn: ['C=US, O=Example'] } }, { dns: ['x.test'] }, '')).toBe(true);
  });

  it('directoryName SANs are checked as well as the subject (model objects)', () => {
    const dnName = (cn: string) => modelCert({ subject: cn }).subject;
    const root = modelCert({ subject: 'root', nameConstraints: { permitted: [{ type: 'dn', value: dnName('foo') }], excluded: null } });
    const good = modelCert({ subject: 'foo', san: [{ type: 'dn', value: dnName('FOO') }] });
    const badSan = modelCert({ subject: 'foo', san: [{ type: 'dn', value: dnName('bar') }] });
    expect(checkNameConstraints([good], root)).toEqual({ ok: true });
    expect(checkNameConstraints([badSan], root)).toMatchObject({ ok: false, certIndex: 0 });
  });
});

describe('forms certgate cannot check', () => {
  const other = { type: 'other' as const, tag: 0, oid: '1.3.6.1.4.1.311.20.2.3', der: new Uint8Array([0xa0, 0]) };
  const regId = { type: 'other' as const, tag: 8, oid: '1.2.3.4', der: new Uint8Array([0x88, 0]) };
  it('fail closed when the certificate has a name of that form, ignored otherwise', () => {
    const root = modelCert({ subject: 'root' });
    const ca = modelCert({ subject: 'CA', nameConstraints: { permitted: null, excluded: [other] } });
    const withOther = modelCert({ subject: 'leaf', san: [other, { type: 'dns', value: 'a.test' }] });
    const without = modelCert({ subject: 'leaf', san: [{ type: 'dns', value: 'a.test' }] });
    const r = checkNameConstraints([ca, withOther], root);
    expect(r).toMatchObject({ ok: false, code: 'NAME_CONSTRAINTS', certIndex: 0 });
    if (!r.ok) expect(r.message).toContain('cannot check');
    expect(checkNameConstraints([ca, without], root)).toEqual({ ok: true });
    const caReg = modelCert({ subject: 'CA', nameConstraints: { permitted: [regId], excluded: null } });
    expect(checkNameConstraints([caReg, withOther], root)).toEqual({ ok: true });
    expect(checkNameConstraints([caReg, modelCert({ subject: 'leaf', san: [regId] })], root)).toMatchObject({ ok: false });
  });
});

describe('the path', () => {
  it('constraints of every CA above apply, including the trust anchor', async () => {
    const b = await build({ rootNc: { permitted: { dns: ['example.com'] } }, caNc: { permitted: { dns: ['other.org', 'foo.example.com'] } }, leaf: { san: { dns: ['other.org'] } } });
    const r = checkNameConstraints(b.path, b.anchor);
    expect(r).toMatchObject({ ok: false, certIndex: 0 });
    if (!r.ok) expect(r.message).toContain('the trust anchor');
    // Without the anchor (a name + key anchor), only the intermediate's constraints apply.
    expect(checkNameConstraints(b.path, null)).toEqual({ ok: true });
    const b2 = await build({ rootNc: { permitted: { dns: ['example.com'] } }, caNc: { permitted: { dns: ['foo.example.com'] } }, leaf: { san: { dns: ['bar.example.com'] } } });
    expect(checkNameConstraints(b2.path, b2.anchor)).toMatchObject({ ok: false, certIndex: 0 });
    const b3 = await build({ rootNc: { permitted: { dns: ['example.com'] } }, caNc: { permitted: { dns: ['foo.example.com'] } }, leaf: { san: { dns: ['x.foo.example.com'] } } });
    expect(checkNameConstraints(b3.path, b3.anchor)).toEqual({ ok: true });
  });

  it("the anchor's constraints apply to intermediates too (certIndex points at the offender)", async () => {
    const root = await createCa({ nameConstraints: { permitted: { dn: ['O=Good'] } } });
    const ca = await root.issueIntermediate({ subject: 'O=Bad, CN=rogue CA' });
    const leaf = await ca.issue({ subject: 'O=Good, CN=leaf' });
    const r = checkNameConstraints([parse(ca), parse(leaf)], parse(root));
    expect(r).toMatchObject({ ok: false, certIndex: 1 });
    if (!r.ok) expect(r.message).toContain("'CN=rogue CA,O=Bad'");
  });

  it('self-issued intermediates are exempt, a self-issued leaf is not', async () => {
    const root = await createCa({ subject: 'CN=root', nameConstraints: { permitted: { dns: ['example.com'] } } });
    const ca = await root.issueIntermediate({ subject: 'CN=issuing', san: { dns: ['not-example.org'] } });
    const rollover = await ca.issueIntermediate({ subject: 'CN=issuing', san: { dns: ['not-example.org'] } });
    const leaf = await ca.issue({ san: { dns: ['www.example.com'] } });
    const p = [parse(ca), parse(rollover), parse(leaf)];
    expect(p[1]!.selfIssued).toBe(true);
    // The first intermediate is not self-issued: its SAN violates the root's constraint.
    expect(checkNameConstraints(p, parse(root))).toMatchObject({ ok: false, certIndex: 2 });
    const okCa = await root.issueIntermediate({ subject: 'CN=issuing2' });
    const okRollover = await okCa.issueIntermediate({ subject: 'CN=issuing2', san: { dns: ['not-example.org'] } });
    const okLeaf = await okRollover.issue({ san: { dns: ['www.example.com'] } });
    expect(checkNameConstraints([parse(okCa), parse(okRollover), parse(okLeaf)], parse(root))).toEqual({ ok: true });
    const selfIssuedLeaf = await okCa.issue({ subject: 'CN=issuing2', san: { dns: ['not-example.org'] } });
    expect(checkNameConstraints([parse(okCa), parse(selfIssuedLeaf)], parse(root))).toMatchObject({ ok: false, certIndex: 0 });
  });

  it("the leaf's own constraints constrain nothing", async () => {
    const root = await createCa();
    const leaf = await root.issue({ san: { dns: ['a.test'] }, nameConstraints: { permitted: { dns: ['b.test'] } } });
    expect(checkNameConstraints([parse(leaf)], parse(root))).toEqual({ ok: true });
  });
});

describe('bounded work', () => {
  it('refuses names × constraints beyond the limit with PATH_BUILDING_LIMIT', () => {
    const constraints = Array.from({ length: 300 }, (_, i) => ({ type: 'dns' as const, value: `c${i}.example.com` }));
    const names = Array.from({ length: 300 }, (_, i) => ({ type: 'dns' as const, value: `n${i}.other.org` }));
    const root = modelCert({ subject: 'root', nameConstraints: { permitted: null, excluded: constraints } });
    const leaf = modelCert({ subject: 'leaf', san: names });
    const r = checkNameConstraints([leaf], root);
    expect(r).toMatchObject({ ok: false, code: 'PATH_BUILDING_LIMIT', certIndex: 0 });
    if (!r.ok) expect(r.message).toContain('65536');
    expect(checkNameConstraints([leaf], root, { maxComparisons: 100_000 })).toEqual({ ok: true });
    expect(checkNameConstraints([leaf], root, { maxComparisons: 1000 })).toMatchObject({ ok: false, code: 'PATH_BUILDING_LIMIT' });
  });
});
