/**
 * Conformance: every NIST PKITS case and every applicable x509-limbo case, run through the public API
 * exactly as a user calls it (`TrustStore.fromPem` + `verifyChain`), against the built package.
 *
 * Cases certgate is known to fail are listed in `conformance/known-failures.json` with the reason; for
 * those the test asserts that the verdict still differs (so a fix shows up as a test to update, and
 * the report never claims a pass it did not see). `docs/conformance.md` is written from this run.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { TrustStore, toPem, verifyChain, type VerifyOptions, type VerifyResult } from '@certgate/core';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const readJson = (p: string) => JSON.parse(readFileSync(here(p), 'utf8'));

interface PkitsCase {
  id: string;
  section: string;
  name: string;
  certs: string[];
  crls: string[];
  expected: 'valid' | 'invalid';
  inputs: { initialPolicySet: string[]; initialExplicitPolicy: boolean; initialPolicyMappingInhibit: boolean; initialAnyPolicyInhibit: boolean };
}
interface LimboEntry { id: string; expected: 'valid' | 'invalid'; eku: string; features?: string[] }
interface LimboCase {
  id: string;
  trusted_certs: string[];
  untrusted_intermediates: string[];
  peer_certificate: string;
  crls: string[];
  validation_time: string | null;
  key_usage: string[];
  max_chain_depth: number | null;
  description: string;
}

const pkits = readJson('./conformance/pkits/cases.json') as { time: string; cases: PkitsCase[] };
const limboApplicable = readJson('./conformance/limbo/applicable.json') as { cases: LimboEntry[] };
const limboById = new Map<string, LimboCase>(
  (readJson('./conformance/limbo/limbo.json') as { testcases: LimboCase[] }).testcases.map((c) => [c.id, c]),
);
const known = readJson('./conformance/known-failures.json') as Record<string, Record<string, string>>;

interface Row { suite: 'PKITS' | 'x509-limbo'; id: string; group: string; name: string; expected: string; got: string; code?: string; pass: boolean; knownReason?: string }
const rows: Row[] = [];

const certDer = (name: string) => new Uint8Array(readFileSync(here(`./conformance/pkits/certs/${name}.crt`)));
const crlDer = (name: string) => new Uint8Array(readFileSync(here(`./conformance/pkits/crls/${name}.crl`)));

function verdict(r: VerifyResult): 'valid' | 'invalid' {
  return r.ok ? 'valid' : 'invalid';
}

async function runPkits(c: PkitsCase): Promise<VerifyResult> {
  const [anchor, ...rest] = c.certs;
  const target = rest.pop()!;
  // The case's CRLs (DER) go into the store, so revocation is checked by default ('hard'), as a user would have it.
  const store = TrustStore.fromPem(toPem(certDer(anchor!)), { crls: c.crls.map(crlDer) });
  expect(store.problems.filter((p) => p.source === 'crls'), `${c.id}: every CRL parses`).toEqual([]);
  const options: VerifyOptions = {
    time: new Date(pkits.time),
    allowWeakAlgorithms: true,
    initialPolicySet: c.inputs.initialPolicySet,
    explicitPolicy: c.inputs.initialExplicitPolicy,
    policyMappingInhibit: c.inputs.initialPolicyMappingInhibit,
    anyPolicyInhibit: c.inputs.initialAnyPolicyInhibit,
  };
  return verifyChain([certDer(target), ...rest.map(certDer)], store, options);
}

async function runLimbo(entry: LimboEntry, c: LimboCase): Promise<VerifyResult> {
  const store = TrustStore.fromPem(c.trusted_certs.join('\n'), { crls: c.crls });
  expect(store.problems.filter((p) => p.source === 'crls'), `${c.id}: every CRL parses`).toEqual([]);
  const options: VerifyOptions = {
    requiredEku: entry.eku,
    requiredKeyUsage: c.key_usage.map((k) => k.replace(/_([a-z])/g, (_, ch: string) => ch.toUpperCase())) as VerifyOptions['requiredKeyUsage'],
    ...(c.validation_time ? { time: new Date(c.validation_time) } : {}),
    ...(c.max_chain_depth !== null ? { maxDepth: c.max_chain_depth } : {}),
  };
  return verifyChain([c.peer_certificate, ...c.untrusted_intermediates], store, options);
}

function check(row: Row) {
  rows.push(row);
  if (row.knownReason) {
    // A known failure: it must still fail. If it passes now, remove it from known-failures.json.
    expect(row.got, `${row.id} is listed as a known failure but now passes`).not.toBe(row.expected);
  } else {
    expect(row.got, `${row.id}: ${row.name}${row.code ? ` (got ${row.code})` : ''}`).toBe(row.expected);
  }
}

describe('NIST PKITS', () => {
  for (const c of pkits.cases) {
    it(`${c.id} ${c.name}`, async () => {
      const r = await runPkits(c);
      check({
        suite: 'PKITS',
        id: c.id,
        group: c.section.split('.').slice(0, 2).join('.'),
        name: c.name,
        expected: c.expected,
        got: verdict(r),
        ...(r.ok ? {} : { code: r.code }),
        pass: verdict(r) === c.expected,
        ...(known.pkits?.[c.id] ? { knownReason: known.pkits[c.id] } : {}),
      });
    });
  }
});

describe('x509-limbo (applicable client-validation cases)', () => {
  for (const e of limboApplicable.cases) {
    it(e.id, async () => {
      const c = limboById.get(e.id);
      expect(c, `limbo case ${e.id} exists`).toBeDefined();
      const r = await runLimbo(e, c!);
      check({
        suite: 'x509-limbo',
        id: e.id,
        group: e.id.split('::')[0]!,
        name: c!.description.split('\n')[0]!.slice(0, 100),
        expected: e.expected,
        got: verdict(r),
        ...(r.ok ? {} : { code: r.code }),
        pass: verdict(r) === e.expected,
        ...(known.limbo?.[e.id] ? { knownReason: known.limbo[e.id] } : {}),
      });
    });
  }
});

afterAll(() => {
  if (rows.length !== pkits.cases.length + limboApplicable.cases.length) return; // a filtered run: no report
  const lines: string[] = [];
  const count = (rs: Row[]) => `${rs.filter((r) => r.pass).length}/${rs.length}`;
  lines.push('# Conformance report', '');
  lines.push('Generated by `packages/core/test/conformance.test.ts` on every full test run (do not edit by hand).');
  lines.push('Every case runs through the public API (`TrustStore.fromPem` + `verifyChain`) of the built `@certgate/core`.');
  lines.push('PKITS: trust anchor `TrustAnchorRootCertificate`, the other certificates as an unordered pool, time 2011-04-15T00:00:00Z,');
  lines.push('`allowWeakAlgorithms: true` (PKITS uses SHA-1 and 1024-bit keys), the case\'s RFC 5280 §6.1.1 policy inputs.');
  lines.push('Each case\'s CRLs (PKITS `crls`, x509-limbo `crls`) are given to the store, so revocation is checked with the default mode (`\'hard\'`).');
  lines.push('x509-limbo: the case\'s trusted certificates as the bundle, its intermediates and peer certificate as the chain, its');
  lines.push('`validation_time`, the EKU from `applicable.json`, its `key_usage` and `max_chain_depth`.', '');
  const crlOnlyPkits = new Set(['4.5.2', '4.5.5', '4.5.7', '4.7.4', '4.7.5']);
  const needsCrl = (r: Row) =>
    r.suite === 'PKITS' ? ['4.4', '4.14', '4.15'].includes(r.group) || crlOnlyPkits.has(r.id) : (limboById.get(r.id)?.crls.length ?? 0) > 0;
  lines.push('## Summary', '', '| suite | all cases | cases that need no CRL processing |', '|---|---:|---:|');
  for (const suite of ['PKITS', 'x509-limbo'] as const) {
    const rs = rows.filter((r) => r.suite === suite);
    lines.push(`| ${suite} | ${count(rs)} | ${count(rs.filter((r) => !needsCrl(r)))} |`);
  }
  lines.push('', 'PKITS cases that need CRL processing: sections 4.4, 4.14, 4.15 and 4.5.2, 4.5.5, 4.5.7, 4.7.4, 4.7.5 (their certificates are invalid only through their CRLs); x509-limbo: the `crl::*` cases.', '');
  for (const suite of ['PKITS', 'x509-limbo'] as const) {
    const rs = rows.filter((r) => r.suite === suite);
    lines.push(`## ${suite}: ${count(rs)} pass`, '', '| group | pass |', '|---|---:|');
    for (const g of [...new Set(rs.map((r) => r.group))]) lines.push(`| ${g} | ${count(rs.filter((r) => r.group === g))} |`);
    lines.push('');
    const failing = rs.filter((r) => !r.pass);
    if (failing.length === 0) {
      lines.push('No failing case.', '');
    } else {
      lines.push(`### Failing cases (${failing.length})`, '', '| case | expected | certgate | reason |', '|---|---|---|---|');
      for (const r of failing) lines.push(`| ${r.id} ${suite === 'PKITS' ? r.name : ''} | ${r.expected} | ${r.got}${r.code ? ` (${r.code})` : ''} | ${r.knownReason ?? 'not yet analysed'} |`);
      lines.push('');
    }
  }
  // Where certgate's verdict differs from OpenSSL's (tools/pkits-openssl.mjs writes OpenSSL's verdicts).
  const openssl = readJson('./conformance/openssl-pkits.json') as { tool: string; command: string; notes: Record<string, string>; cases: Record<string, { verdict: string; error?: string }> };
  const pk = rows.filter((r) => r.suite === 'PKITS');
  const differ = pk.filter((r) => openssl.cases[r.id] && openssl.cases[r.id]!.verdict !== r.got);
  lines.push('## PKITS: certgate and OpenSSL', '');
  lines.push(`${openssl.tool}, run by \`node tools/pkits-openssl.mjs\` as \`${openssl.command}\`: ${pk.filter((r) => openssl.cases[r.id]?.verdict === r.expected).length}/${pk.length} as PKITS expects.`, '');
  if (differ.length === 0) {
    lines.push('certgate and OpenSSL agree on every case.', '');
  } else {
    lines.push('| case | expected | certgate | OpenSSL | why |', '|---|---|---|---|---|');
    for (const r of differ) {
      const o = openssl.cases[r.id]!;
      lines.push(`| ${r.id} ${r.name} | ${r.expected} | ${r.got}${r.code ? ` (${r.code})` : ''} | ${o.verdict}${o.error ? ` (${o.error})` : ''} | ${openssl.notes[r.id] ?? 'not yet analysed'} |`);
    }
    lines.push('');
  }
  writeFileSync(here('../../../docs/conformance.md'), `${lines.join('\n')}\n`);
});
