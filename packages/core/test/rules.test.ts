/**
 * Authorization rules on identities of real, validated certificates (generated here): every allow-list
 * kind (match and mismatch, normalisation), the combinators, predicates that throw or resolve, option
 * errors at build time, and `authorize` over controller decisions in each mode.
 */
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  allOf,
  allowCommonNames,
  allowDnsNames,
  allowEmails,
  allowFingerprints,
  allowIps,
  allowIssuers,
  allowIssuingCas,
  allowOrganizationalUnits,
  allowOrganizations,
  allowSpiffeIds,
  allowSpkiPins,
  allowSubjects,
  allowUris,
  anyOf,
  authorize,
  createController,
  createMemorySettingsStore,
  evaluateRule,
  notAllowedMessage,
  predicate,
  TrustStore,
  verifyChain,
  type ClientIdentity,
  type Controller,
  type Rule,
} from '@certgate/core';
import { createCa, issueExpired, type TestCa, type TestCertificate } from '@certgate/core/testing';

let root: TestCa;
let inter: TestCa;
let alice: TestCertificate;
let bob: TestCertificate;
let aliceId: ClientIdentity;
let bobId: ClientIdentity;

async function identityOf(cert: TestCertificate, ...more: TestCertificate[]): Promise<ClientIdentity> {
  const r = await verifyChain([cert.der, ...more.map((m) => m.der)], TrustStore.fromPem(root.pem));
  if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
  return r.identity;
}

beforeAll(async () => {
  root = await createCa({ subject: 'CN=Rules Root, O=certgate' });
  inter = await root.issueIntermediate({ subject: 'CN=Rules Issuing CA, O=certgate' });
  alice = await inter.issue({
    subject: 'C=DE, O=Example Corp, OU=Engineering, OU=Admins, CN=Alice Example',
    san: { dns: ['alice.example.com'], email: ['Alice@Example.COM'], uri: ['spiffe://example.org/ns/prod/sa/alice', 'https://example.org/alice'], ip: ['10.1.2.3', '2001:db8::7'] },
  });
  bob = await root.issue({ subject: 'O=Other Org, CN=bob', san: { dns: ['x.y.example.com'], email: ['bob@other.test'], uri: ['spiffe://example.org/a', 'spiffe://example.org/b'] } });
  aliceId = await identityOf(alice, inter);
  bobId = await identityOf(bob);
});

async function allowed(rule: Rule, id: ClientIdentity): Promise<boolean> {
  return (await evaluateRule(rule, id)).allowed;
}

describe('allow-lists', () => {
  it('subject: RFC 4514 form as identity.subject prints it, case- and space-insensitive; order matters', async () => {
    expect(aliceId.subject).toBe('CN=Alice Example,OU=Admins,OU=Engineering,O=Example Corp,C=DE');
    expect(await allowed(allowSubjects(aliceId.subject), aliceId)).toBe(true);
    expect(await allowed(allowSubjects('cn=alice  example, ou=admins,OU=Engineering, o=EXAMPLE CORP, c=de'), aliceId)).toBe(true);
    expect(await allowed(allowSubjects('CN=Alice Example,OU=Admins,OU=Engineering,O=Example Corp'), aliceId)).toBe(false);
    expect(await allowed(allowSubjects('C=DE,O=Example Corp,OU=Engineering,OU=Admins,CN=Alice Example'), aliceId)).toBe(false);
    expect(await allowed(allowSubjects(['CN=bob,O=Other Org', 'CN=carol']), bobId)).toBe(true);
    expect(await allowed(allowSubjects([/^CN=Alice /]), aliceId)).toBe(true);
    expect(await allowed(allowSubjects('2.5.4.3=bob,O=Other Org'), bobId)).toBe(true);
    // an escaped comma is part of the value, not a separator
    expect(await allowed(allowSubjects('CN=bob\\,O=Other Org'), bobId)).toBe(false);
  });

  it('commonName / organization / organizationalUnit (any of several values)', async () => {
    expect(await allowed(allowCommonNames('alice example'), aliceId)).toBe(true);
    expect(await allowed(allowCommonNames(['bob', 'carol']), aliceId)).toBe(false);
    expect(await allowed(allowCommonNames(/^bo/), bobId)).toBe(true);
    expect(await allowed(allowOrganizations('Example Corp'), aliceId)).toBe(true);
    expect(await allowed(allowOrganizations('Example'), aliceId)).toBe(false);
    expect(await allowed(allowOrganizationalUnits('Admins'), aliceId)).toBe(true);
    expect(await allowed(allowOrganizationalUnits('engineering'), aliceId)).toBe(true);
    expect(await allowed(allowOrganizationalUnits('Admins'), bobId)).toBe(false);
  });

  it('DNS SAN: case-insensitive; *.domain matches exactly one more label', async () => {
    expect(await allowed(allowDnsNames('ALICE.example.com'), aliceId)).toBe(true);
    expect(await allowed(allowDnsNames('*.example.com'), aliceId)).toBe(true);
    expect(await allowed(allowDnsNames('*.example.com'), bobId)).toBe(false); // x.y.example.com: two labels
    expect(await allowed(allowDnsNames('*.y.example.com'), bobId)).toBe(true);
    expect(await allowed(allowDnsNames('example.com'), aliceId)).toBe(false);
  });

  it('e-mail SAN: domain case-insensitive, local part exact; @domain allows the domain', async () => {
    expect(await allowed(allowEmails('Alice@example.com'), aliceId)).toBe(true);
    expect(await allowed(allowEmails('alice@example.com'), aliceId)).toBe(false);
    expect(await allowed(allowEmails('@EXAMPLE.com'), aliceId)).toBe(true);
    expect(await allowed(allowEmails('@example.com'), bobId)).toBe(false);
  });

  it('URI SAN and SPIFFE ID (exact; two spiffe:// URIs mean no SPIFFE ID)', async () => {
    expect(await allowed(allowUris('https://example.org/alice'), aliceId)).toBe(true);
    expect(await allowed(allowUris('https://example.org/Alice'), aliceId)).toBe(false);
    expect(aliceId.san.spiffeId).toBe('spiffe://example.org/ns/prod/sa/alice');
    expect(await allowed(allowSpiffeIds('spiffe://example.org/ns/prod/sa/alice'), aliceId)).toBe(true);
    expect(await allowed(allowSpiffeIds(/^spiffe:\/\/example\.org\/ns\/prod\//), aliceId)).toBe(true);
    expect(await allowed(allowSpiffeIds('spiffe://example.org/ns/prod/sa/bob'), aliceId)).toBe(false);
    expect(bobId.san.spiffeId).toBeNull();
    expect(await allowed(allowSpiffeIds(['spiffe://example.org/a', 'spiffe://example.org/b']), bobId)).toBe(false);
    expect(await allowed(allowUris('spiffe://example.org/a'), bobId)).toBe(true);
  });

  it('IP SAN: addresses and CIDR blocks, v4 and v6', async () => {
    expect(await allowed(allowIps('10.1.2.3'), aliceId)).toBe(true);
    expect(await allowed(allowIps('10.0.0.0/8'), aliceId)).toBe(true);
    expect(await allowed(allowIps('10.1.3.0/24'), aliceId)).toBe(false);
    expect(await allowed(allowIps('2001:db8::/32'), aliceId)).toBe(true);
    expect(await allowed(allowIps(['192.168.0.0/16', '2001:db9::/32']), aliceId)).toBe(false);
    expect(await allowed(allowIps('10.0.0.0/8'), bobId)).toBe(false);
  });

  it('fingerprint (any case, colons optional) and SPKI pin (base64, sha256/ prefix allowed)', async () => {
    expect(aliceId.fingerprint256).toBe(alice.fingerprint256);
    expect(await allowed(allowFingerprints(alice.fingerprint256), aliceId)).toBe(true);
    expect(await allowed(allowFingerprints(alice.fingerprint256.replace(/:/g, '').toLowerCase()), aliceId)).toBe(true);
    expect(await allowed(allowFingerprints(alice.fingerprint256), bobId)).toBe(false);
    const pin = createHash('sha256').update(alice.publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
    expect(aliceId.spkiSha256).toBe(pin);
    expect(await allowed(allowSpkiPins(pin), aliceId)).toBe(true);
    expect(await allowed(allowSpkiPins(`sha256/${pin}`), aliceId)).toBe(true);
    expect(await allowed(allowSpkiPins(pin), bobId)).toBe(false);
  });

  it('issuer DN and issuing CA (an intermediate or the anchor of the validated path)', async () => {
    expect(aliceId.issuer).toBe('O=certgate,CN=Rules Issuing CA');
    expect(await allowed(allowIssuers('O=certgate,CN=Rules Issuing CA'), aliceId)).toBe(true);
    expect(await allowed(allowIssuers('O=certgate,CN=Rules Issuing CA'), bobId)).toBe(false);
    expect(await allowed(allowIssuers('O=certgate,CN=Rules Root'), bobId)).toBe(true);
    expect(await allowed(allowIssuingCas(inter.fingerprint256), aliceId)).toBe(true);
    expect(await allowed(allowIssuingCas(root.fingerprint256), aliceId)).toBe(true);
    expect(await allowed(allowIssuingCas(inter.fingerprint256), bobId)).toBe(false);
    // the leaf itself is not an issuing CA
    expect(await allowed(allowIssuingCas(alice.fingerprint256), aliceId)).toBe(false);
  });

  it('bad values are refused when the rule is built, naming the function', () => {
    expect(() => allowSubjects('not a dn')).toThrow(/allowSubjects: .* is not an RFC 4514/);
    expect(() => allowSubjects('CN=a,')).toThrow(/allowSubjects/);
    expect(() => allowCommonNames([])).toThrow(/allowCommonNames: give 1/);
    expect(() => allowCommonNames([''])).toThrow(/allowCommonNames/);
    expect(() => allowIps('10.0.0.0/33')).toThrow(/allowIps/);
    expect(() => allowIps('example.com')).toThrow(/allowIps/);
    expect(() => allowFingerprints('abcd')).toThrow(/allowFingerprints/);
    expect(() => allowSpkiPins('short')).toThrow(/allowSpkiPins/);
    expect(() => allowSpiffeIds('https://x')).toThrow(/allowSpiffeIds/);
    expect(() => allOf()).toThrow(/allOf: give 1/);
    expect(() => anyOf({} as Rule)).toThrow(/anyOf: every argument must be a Rule/);
    expect(() => predicate(42 as never)).toThrow(/predicate/);
    try {
      allowIps('nope');
    } catch (e) {
      expect((e as { code: string }).code).toBe('ERR_CERTGATE_INVALID_OPTION');
    }
  });
});

describe('combinators and predicates', () => {
  it('allOf fails on the first failing rule and names it; anyOf passes on any', async () => {
    const r = allOf(allowOrganizations('Example Corp'), allowCommonNames('nobody'), allowDnsNames('alice.example.com'));
    const res = await evaluateRule(r, aliceId);
    expect(res).toEqual({ allowed: false, rule: 'commonName in ["nobody"]' });
    expect(await allowed(allOf(allowOrganizations('Example Corp'), allowOrganizationalUnits('Admins')), aliceId)).toBe(true);
    expect(await allowed(anyOf(allowCommonNames('nobody'), allowSpiffeIds('spiffe://example.org/ns/prod/sa/alice')), aliceId)).toBe(true);
    const any = anyOf(allowCommonNames('nobody'), allowCommonNames('noone'));
    expect(await evaluateRule(any, aliceId)).toEqual({ allowed: false, rule: any.description });
    // nesting
    expect(await allowed(anyOf(allOf(allowCommonNames('bob'), allowOrganizations('Other Org')), allowFingerprints(alice.fingerprint256)), bobId)).toBe(true);
  });

  it('predicates: sync, async; anything but true, a throw or a rejection denies', async () => {
    expect(await allowed(predicate((id) => id.commonName === 'bob'), bobId)).toBe(true);
    expect(await allowed(predicate(async (id) => id.notAfter.getTime() > Date.now()), bobId)).toBe(true);
    expect(await allowed(predicate(() => 1 as unknown as boolean), bobId)).toBe(false);
    const throwing = predicate(() => {
      throw new Error('db down');
    }, 'lookup in the user table');
    expect(await evaluateRule(throwing, bobId)).toEqual({ allowed: false, rule: 'lookup in the user table (threw)' });
    expect(await allowed(predicate(() => Promise.reject(new Error('x'))), bobId)).toBe(false);
    // inside anyOf, a throwing rule does not stop the next one
    expect(await allowed(anyOf(throwing, allowCommonNames('bob')), bobId)).toBe(true);
  });
});

describe('authorize(decision, rules, appName)', () => {
  let ca: TestCa;
  let admin: TestCertificate;
  let other: TestCertificate;
  let expired: TestCertificate;
  let controller: Controller;
  const APP = 'Rules App';
  const onlyAdmin = allowCommonNames('admin');

  beforeAll(async () => {
    ca = await createCa({ subject: 'CN=Authorize CA' });
    admin = await ca.issue({ subject: 'CN=admin' });
    other = await ca.issue({ subject: 'CN=someone' });
    expired = await issueExpired(ca);
    controller = await createController({ store: createMemorySettingsStore(), appName: APP });
  });

  it('disabled: rules are not evaluated', async () => {
    const d = await authorize(await controller.decide([other.der]), onlyAdmin, APP);
    expect(d).toMatchObject({ action: 'allow', mode: 'disabled' });
    expect(d.authorization).toBeUndefined();
  });

  it('optional: a failure is reported (allow-unverified), never a denial; rules never run on an unvalidated certificate', async () => {
    expect((await controller.save({ enabled: true, enforce: false, caPem: ca.pem }, { actor: 't', peerChain: null })).ok).toBe(true);
    const ok = await authorize(await controller.decide([admin.der]), onlyAdmin, APP);
    expect(ok).toMatchObject({ action: 'allow', authorization: { allowed: true } });
    const no = await authorize(await controller.decide([other.der]), onlyAdmin, APP);
    expect(no).toMatchObject({ action: 'allow-unverified', authorization: { allowed: false, rule: 'commonName in ["admin"]' } });
    expect(no.identity?.commonName).toBe('someone');
    expect(no.denial).toBeUndefined();
    let ran = 0;
    const counting = predicate(() => (ran++, true));
    const exp = await authorize(await controller.decide([expired.der]), counting, APP);
    expect(exp).toMatchObject({ action: 'allow-unverified', authorization: { allowed: false, rule: null } });
    const none = await authorize(await controller.decide(null), counting, APP);
    expect(none).toMatchObject({ action: 'allow-unverified', authorization: { allowed: false, rule: null } });
    expect(ran).toBe(0);
  });

  it('enforced: a failure denies with NOT_ALLOWED (distinct from an untrusted chain); no rules = unchanged', async () => {
    expect((await controller.save({ enabled: true, enforce: true }, { actor: 't', peerChain: [admin.der] })).ok).toBe(true);
    const base = await controller.decide([other.der]);
    expect(base.action).toBe('allow');
    expect(await authorize(base, undefined, APP)).toBe(base);
    expect(await authorize(base, [], APP)).toBe(base);
    const d = await authorize(base, onlyAdmin, APP);
    expect(d).toMatchObject({ action: 'deny', denial: { code: 'NOT_ALLOWED', message: notAllowedMessage(APP) } });
    expect(d.denial!.message).not.toContain('admin"'); // the allow-list is not revealed
    const ok = await authorize(await controller.decide([admin.der]), [onlyAdmin, allowIssuers('CN=Authorize CA')], APP);
    expect(ok).toMatchObject({ action: 'allow', authorization: { allowed: true } });
    // an already denied decision keeps its own code
    const untrusted = await authorize(await controller.decide([expired.der]), onlyAdmin, APP);
    expect(untrusted).toMatchObject({ action: 'deny', denial: { code: 'CLIENT_CERT_UNTRUSTED', reason: 'EXPIRED' } });
    expect(untrusted.authorization).toBeUndefined();
  });

  it('mounts compose: a later mount never turns an earlier failure into a pass; both rule sets must pass', async () => {
    const first = await authorize(await controller.decide([admin.der]), allowCommonNames('someone'), APP);
    expect(first).toMatchObject({ action: 'deny', denial: { code: 'NOT_ALLOWED' } });
    expect(await authorize(first, onlyAdmin, APP)).toBe(first);
    const passed = await authorize(await controller.decide([admin.der]), onlyAdmin, APP);
    expect(await authorize(passed, undefined, APP)).toBe(passed); // a mount without rules keeps the earlier result
    const both = await authorize(passed, allowIssuers('CN=Some Other CA'), APP);
    expect(both).toMatchObject({ action: 'deny', denial: { code: 'NOT_ALLOWED' }, authorization: { allowed: false, rule: 'issuer in ["CN=Some Other CA"]' } });
    // optional: a failed earlier mount stays reported as failed
    expect((await controller.save({ enabled: true, enforce: false }, { actor: 't', peerChain: null })).ok).toBe(true);
    const opt = await authorize(await controller.decide([other.der]), onlyAdmin, APP);
    const again = await authorize(opt, allowCommonNames('someone'), APP);
    expect(again).toMatchObject({ action: 'allow-unverified', authorization: { allowed: false, rule: 'commonName in ["admin"]' } });
    controller.close();
  });
});
