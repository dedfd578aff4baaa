/**
 * Targets of team issue #8 evaluated on a results object, and `docs/benchmarks.md` rendered from it.
 * Everything in the generated page is computed from the results; nothing is typed in by hand.
 */
import { sig } from './common.mjs';

const f = (x, d = 3) => (x === undefined || x === null || Number.isNaN(x) ? '–' : sig(x, d));
const x2 = (x) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : '–');
const x1 = (x) => (Number.isFinite(x) ? `${x.toFixed(1)}×` : '–');
const SET_LABEL = { leaves: 'distinct leaves under one CA', intermediates: 'distinct leaf + intermediate under one root' };
const KEY_LABEL = { 'ec-p256': 'EC P-256', 'rsa-2048': 'RSA-2048' };

/** [{ target, measured, met }] — met is null when the part did not run. */
export function evaluateTargets(result) {
  const out = [];
  const v = result.parts.verify;
  const all = v?.sets ?? [];
  // One row per kind of distinct chains: the issue's chains are "distinct 3-certificate chains"; new leaves
  // under a fixed CA hierarchy is what a server sees, a new intermediate per chain the stricter reading.
  for (const variant of ['leaves', 'intermediates']) {
    const sets = all.filter((s) => s.variant === variant);
    out.push({
      target: `cold chains ≤ 1.5× their signature cost — ${SET_LABEL[variant]}`,
      measured: sets.length ? sets.map((s) => `${x2(s.ratios.certgateOverSignatures)} (${KEY_LABEL[s.key]})`).join(', ') : 'not run',
      met: sets.length ? sets.every((s) => s.ratios.certgateOverSignatures <= 1.5) : null,
    });
  }
  for (const variant of ['leaves', 'intermediates']) {
    const sets = all.filter((s) => s.variant === variant);
    out.push({
      target: `cold chains ≥ 30× faster than pkijs — ${SET_LABEL[variant]}`,
      measured: sets.length ? sets.map((s) => `${x1(s.ratios.pkijsOverCertgate)} (${KEY_LABEL[s.key]})`).join(', ') : 'not run',
      met: sets.length ? sets.every((s) => s.ratios.pkijsOverCertgate >= 30) : null,
    });
  }
  const reps = all.filter((s) => s.repeat);
  out.push({
    target: 'a repeat decision ≤ 5 µs (createVerdictCache hit)',
    measured: reps.length ? reps.map((s) => `${f(s.repeat.verdictCacheHitUs)} µs (${KEY_LABEL[s.key]})`).join(', ') : 'not run',
    met: reps.length ? reps.every((s) => s.repeat.verdictCacheHitUs <= 5) : null,
  });
  const h = result.parts.http?.summary;
  for (const [mode, min] of [
    ['keep-alive', 0.97],
    ['new-connection', 0.95],
  ]) {
    const r = h?.[mode]?.ratios;
    out.push({
      target: `HTTP ${mode}: Express + certgate ≥ ${min}× the bare OpenSSL-verified https server (requests/s)`,
      measured: r ? `${x2(r.expressCertgateOverHttpsOpenssl)} (vs Express + OpenSSL: ${x2(r.expressCertgateOverExpressOpenssl)}; bare https + certgate: ${x2(r.httpsCertgateOverHttpsOpenssl)})` : 'not run',
      met: r ? r.expressCertgateOverHttpsOpenssl >= min : null,
    });
  }
  const m = result.parts.memory;
  out.push({
    target: `bounded memory over ${m ? m.n.toLocaleString('en-US') : '100 000'} distinct client certificates`,
    measured: m ? m.phases.map((p) => `${p.name}: +${f(p.heapGrowthMb)} MB, second half +${f(p.heapGrowthSecondHalfMb)} MB`).join('; ') : 'not run',
    met: m ? m.phases.every((p) => p.heapGrowthSecondHalfMb <= Math.max(2, 0.05 * p.heapGrowthMb)) : null,
  });
  return out;
}

/** Sentences on what keeps each missed target out of reach, computed from the results. */
function missReasons(result) {
  const out = [];
  const sets = result.parts.verify?.sets ?? [];
  const inter = sets.filter((s) => s.variant === 'intermediates' && s.breakdownUs && s.ratios.certgateOverSignatures > 1.5);
  if (inter.length) {
    const parts = inter.map((s) => {
      const imp = s.breakdownUs.sigLeafFirst - s.breakdownUs.sigLeafKeyCached;
      return `${KEY_LABEL[s.key]}: ${f(imp)} µs, against ${f(0.5 * s.results.signatures.medianUs)} µs of budget above the ${f(s.results.signatures.medianUs)} µs floor (the node:crypto loop, which imports the same keys, takes ${f(s.results['node:crypto loop'].medianUs)} µs, certgate ${f(s.results.certgate.medianUs)} µs)`;
    });
    out.push(
      `A new intermediate per chain: its public key must be imported into OpenSSL (EC keys through WebCrypto's \`raw\` import, the cheapest of the import paths measured; RSA as a JWK) before its signature on the leaf can be checked, and the floor uses pre-imported keys. The import alone — ${parts.join('; ')}. Once an intermediate has been seen, its key and its own signature check are cached per trust store (the other kind of chains).`,
    );
  }
  const pk = sets.filter((s) => s.variant === 'leaves' && s.ratios.pkijsOverCertgate < 30);
  for (const s of pk) {
    const need = s.results.pkijs.medianUs / 30;
    const oneSig = s.breakdownUs?.sigLeafKeyCached;
    out.push(
      `pkijs, ${KEY_LABEL[s.key]}, ${SET_LABEL[s.variant]}: pkijs takes ${f(s.results.pkijs.medianUs)} µs here (warmed up, no forced GC), so 30× means ${f(need)} µs for the whole of certgate's validation; the one signature a new leaf needs (the intermediate's check is cached) costs ${f(oneSig)} µs of it, which leaves ${f(need - oneSig)} µs for parsing, RFC 5280 validation and the identity (certgate spends ${f(s.results.certgate.medianUs - oneSig)} µs on them).`,
    );
  }
  const ka = result.parts.http?.summary?.['keep-alive'];
  if (ka && ka.ratios.expressCertgateOverHttpsOpenssl < 0.97) {
    const base = ka['https-openssl'];
    const eo = ka['express-openssl'];
    out.push(
      `Keep-alive through Express: Express itself, with OpenSSL verifying and no certgate, serves ${x2(eo.rps / base.rps)} of the bare https server's requests/s (${f(eo.serverCpuUsPerRequest - base.serverCpuUsPerRequest)} µs more server CPU per request), so no Express middleware can reach 0.97× of bare https. Against the same Express stack certgate keeps ${x2(ka.ratios.expressCertgateOverExpressOpenssl)} (${x2(ka.ratios.expressCertgateOverExpressOpensslMw)} against Express with one no-op middleware), and on bare https ${x2(ka.ratios.httpsCertgateOverHttpsOpenssl)}.${
        ka['express-certgate'].mtlsUsPerRequest !== undefined
          ? ` Those throughput ratios between server processes move by several per cent from run to run; timed inside the server, \`mtls()\` takes ${f(ka['express-certgate'].mtlsUsPerRequest)} µs of the ${f(ka['express-certgate'].serverCpuUsPerRequest)} µs of CPU an Express request costs, i.e. ${x2(1 - ka['express-certgate'].mtlsUsPerRequest / ka['express-certgate'].serverCpuUsPerRequest)} of the same Express server without it.`
          : ''
      }`,
    );
  }
  return out;
}

function table(head, rows) {
  return [`| ${head.join(' | ')} |`, `|${head.map((h, i) => (i === 0 ? '---' : '---:')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export function renderMarkdown(result) {
  const m = result.machine;
  const L = [];
  L.push('# Benchmarks');
  L.push('');
  L.push('<!-- Generated by `pnpm bench` (bench/run.mjs → bench/lib/report.mjs) from bench/results/latest.json. Do not edit by hand. -->');
  L.push('');
  L.push(`Machine: ${m.nproc} × ${m.cpu}, ${m.platform}, Node ${m.node} (OpenSSL ${m.openssl}); run ${m.date}.`);
  const loads = Object.entries(result.load ?? {}).map(([k, l]) => `${k} ${l.loadavgBefore ? l.loadavgBefore[0].toFixed(2) : '?'}${l.reused ? ' (reused from an earlier run)' : ''}`);
  if (loads.length) L.push(`Load average (1 min) when each part started: ${loads.join(', ')} — on a 2-core machine shared with other work, figures move by ±10–20 % between runs; ratios within one run are what counts.`);
  if (result.quick) L.push('\n**Quick run** (shortened rounds): indicative only.');
  L.push('');
  L.push('Run it: `pnpm bench` (builds, then `node --expose-gc bench/run.mjs`; about 8 minutes). `node bench/run.mjs --quick` is a smoke run; `--only verify,peer,http,memory,parse` reruns some parts and keeps the others from the last results; `node bench/run.mjs --render` regenerates this page from the last results. Raw figures: `bench/results/latest.json`. No test asserts a timing: the benchmarks report, CI does not time.');
  L.push('');
  L.push('## Targets (team issue #8)');
  L.push('');
  L.push(table(['target', 'measured', 'met'], result.targets.map((t) => [t.target, t.measured, t.met === null ? 'not run' : t.met ? '**yes**' : '**no**'])));
  L.push('');
  const why = missReasons(result);
  if (why.length) {
    L.push('What stands in the way of the targets not met (figures from this run):');
    L.push('');
    for (const w of why) L.push(`- ${w}`);
    L.push('');
  }

  const v = result.parts.verify;
  if (v) {
    L.push('## 1. Cold chain validation');
    L.push('');
    L.push(`Each contender validates distinct 3-certificate chains (the client sends leaf + intermediate, the root is the trusted CA, parsed once up front), each chain once per contender; before each set, every contender validates ${v.jitWarmChains ?? 'no'} other distinct chains once (new leaves under their own CA, same key type: steady state, not a JIT still compiling, and nothing measured is in a cache); ${v.rounds} interleaved rounds (rotating order; the heap is collected once before each set's warm-up and never inside the rounds: a forced full collection slows JavaScript-heavy code for the next few hundred operations — certgate by 20–25 % per operation, measured — which no server sees), a round's figure is the median of its operations, the table shows the median over rounds and the range of round medians. Chains: ${v.chainsPerSet} per set, generated with \`@certgate/core/testing\`.`);
    L.push('');
    L.push('- **signatures**: the floor, the two `crypto.verify` calls alone on pre-parsed TBS bytes with pre-imported keys.');
    L.push('- **certgate**: `verifyChain([leafDer, intermediateDer], store)` — parsing, path building, RFC 5280 validation, identity.');
    L.push('- **node:crypto loop**: `new X509Certificate` ×2, `checkIssued` + `verify(issuer.publicKey)` per link, validity dates, CA flag (no policy, name constraints, EKU, key usage or path length checks).');
    L.push('- **@peculiar/x509**: parse ×2, `X509ChainBuilder.build` (verifies each link\'s signature), root is the trusted one, validity dates.');
    L.push('- **pkijs**: `Certificate.fromBER` ×2 and `CertificateChainValidationEngine.verify()`.');
    L.push('');
    for (const s of v.sets) {
      L.push(`### ${KEY_LABEL[s.key]}, ${SET_LABEL[s.variant]}`);
      L.push('');
      const cg = s.results.certgate.medianUs;
      L.push(
        table(
          ['contender', 'µs per chain (median)', 'round range', 'vs certgate', 'failures'],
          Object.entries(s.results).map(([n, r]) => [n === 'certgate' ? '**certgate**' : n, f(r.medianUs), `${f(r.minRoundUs)}–${f(r.maxRoundUs)}`, n === 'certgate' ? '1' : x2(r.medianUs / cg), r.failures.length ? r.failures.join('; ') : '0']),
        ),
      );
      L.push('');
      L.push(`certgate / signatures = **${x2(s.ratios.certgateOverSignatures)}**; pkijs / certgate = **${x1(s.ratios.pkijsOverCertgate)}**; @peculiar/x509 / certgate = ${x1(s.ratios.peculiarOverCertgate)}; node:crypto loop / certgate = ${x2(s.ratios.nodeLoopOverCertgate)}.${s.wrapped ? ' (Some chains were used twice by a contender: the set was too small for the rounds.)' : ''}`);
      L.push('');
      const b = s.breakdownUs;
      if (b) {
        const keyImport = b.sigLeafFirst - b.sigLeafKeyCached;
        L.push('Where a cold validation goes (internal modules of a separately bundled copy, warmed on the same warm-up chains, timed one step at a time on fresh chains, medians, µs):');
        L.push('');
        L.push(
          table(
            ['step', 'µs'],
            [
              ['parse leaf (`parseCertificate`)', f(b.parseLeaf)],
              ['parse intermediate', f(b.parseIntermediate)],
              ['signature: intermediate by root (key cached)', f(b.sigIntermediateByRoot)],
              ["signature: leaf by intermediate, first use of the intermediate's key (imported as `verifyChain` does)", f(b.sigLeafFirst)],
              ['signature: leaf by intermediate, key cached', f(b.sigLeafKeyCached)],
              ['→ importing the key (difference)', f(keyImport)],
              ['`validatePath` (RFC 5280 checks, signatures excluded)', f(b.validatePath)],
              ['summaries + `identityOf` (names, fingerprints)', f(b.identity)],
              ['`buildAndValidate` (path building incl. both signatures + validatePath)', f(b.buildAndValidate)],
              ['`verifyChain` total (same module copy, unseen chains)', f(b.verifyChainTotal)],
            ],
          ),
        );
        L.push('');
      }
      if (s.profile) {
        L.push(`CPU profile of the cold loop (${s.profile.ops} validations, ${s.profile.passes} pass(es), ${f(s.profile.usPerOp)} µs each under the profiler), self time:`);
        L.push('');
        L.push(table(['function', 'self %', 'µs per validation'], s.profile.top.slice(0, 10).map((e) => [`\`${e.fn}\``, e.selfPct.toFixed(1), f(e.usPerOp)])));
        L.push('');
      }
    }
    L.push('## 2. Repeat decisions');
    L.push('');
    const reps = v.sets.filter((s) => s.repeat);
    L.push(
      table(
        ['chain', 'createVerdictCache hit (100 chains cycled)', 'hit, one chain', 'miss (cold, through the cache)', 'controller.decide, repeat'],
        reps.map((s) => [KEY_LABEL[s.key], `${f(s.repeat.verdictCacheHitUs)} µs`, `${f(s.repeat.verdictCacheHitSameChainUs)} µs`, `${f(s.repeat.verdictCacheMissUs)} µs`, `${f(s.repeat.controllerDecideRepeatUs)} µs`]),
      ),
    );
    L.push('');
    L.push('A hit costs the cache key (SHA-256 over the chain\'s DER with type and length prefixes), one `Map` lookup and an LRU touch. `controller.decide` has a cache of its own but parses and summarises the leaf (`describeLeaf`) on every call before looking it up.');
    const kc = v.sets.find((s) => s.keyCost)?.keyCost;
    if (kc) {
      L.push('');
      L.push(`Cache key cost for a ${kc.bytes}-byte chain (the cheapest is used):`);
      L.push('');
      L.push(table(['variant', 'µs'], Object.entries(kc.us).map(([k, u]) => [k, f(u)])));
    }
    L.push('');
  }

  const h = result.parts.http;
  if (h) {
    L.push('## 3. HTTP');
    L.push('');
    L.push(`Servers (one process each, 127.0.0.1 only) answer \`ok\` to \`GET /\`; the client presents an EC P-256 leaf + intermediate. ${h.connections} concurrent connections, ${h.seconds} s per run, ${h.rounds} interleaved rounds, medians. The load generator runs in the benchmark process, the server in its own: on 2 cores the loader can be the bottleneck (see "server CPU share"), so **server CPU time per request** is the figure that isolates the server's own cost. Keep-alive is measured with autocannon and, as a cross-check, with a small raw-TLS loader (\`bench/lib/load.mjs\`); new-connection-per-request only with the raw-TLS loader (autocannon's \`reconnectRate\` does not count the response that triggers each reconnect). Every new connection is a full TLS handshake (no session resumption).`);
    L.push('');
    L.push('- **https-openssl**: bare `https`, `requestCert: true, rejectUnauthorized: true, ca` (OpenSSL verifies).');
    L.push('- **express-openssl**: the same TLS, an Express app in front of the handler.');
    L.push('- **express-openssl-mw**: express-openssl plus one no-op `app.use` middleware — the price of the Express layer that `mtls()` occupies.');
    L.push('- **express-certgate**: Express + `mtls(controller)` (`@certgate/express`), `attachController` (`@certgate/tls`), controller `enforced`; a timing wrapper around `mtls()` measures, in the server, the time the middleware itself takes.');
    L.push('- **https-certgate**: bare `https` + `attachController`, the handler calls `decideSocket`.');
    L.push('');
    const chk = h.checks;
    if (chk) {
      L.push(`Checked before the load: every server answers 200 to the valid client; without a certificate and with one from another CA the OpenSSL servers fail the handshake (${chk['https-openssl'].noCertificate.error ?? chk['https-openssl'].noCertificate.status}, ${chk['https-openssl'].otherCa.error ?? chk['https-openssl'].otherCa.status}) and the certgate servers answer ${chk['express-certgate'].noCertificate.status ?? chk['express-certgate'].noCertificate.error} / ${chk['express-certgate'].otherCa.status ?? chk['express-certgate'].otherCa.error}.`);
      L.push('');
    }
    for (const [mode, sm] of Object.entries(h.summary)) {
      L.push(`### ${mode}`);
      L.push('');
      const base = sm['https-openssl'];
      L.push(
        table(
          ['server', 'requests/s', 'vs https-openssl', 'p50 ms', 'p99 ms', 'server CPU µs / request', 'server CPU share', 'requests', 'non-2xx', 'errors'],
          Object.entries(sm)
            .filter(([k]) => k !== 'ratios')
            .map(([k, r]) => [k, f(r.rps), x2(r.rps / base.rps), f(r.p50ms), f(r.p99ms), f(r.serverCpuUsPerRequest), `${(100 * r.serverCpuShare).toFixed(0)} %`, String(r.requests), String(r.non2xx), String(r.errors)]),
        ),
      );
      L.push('');
      const ec = sm['express-certgate'];
      const eo = sm['express-openssl'];
      const hc = sm['https-certgate'];
      L.push(`Express itself, without certgate: express-openssl / https-openssl = ${x2(eo.rps / base.rps)} requests/s, ${f(eo.serverCpuUsPerRequest - base.serverCpuUsPerRequest)} µs more server CPU per request.`);
      L.push('');
      L.push(`certgate's own cost per request, server CPU: Express ${f(ec.serverCpuUsPerRequest - eo.serverCpuUsPerRequest)} µs (express-certgate − express-openssl), bare https ${f(hc.serverCpuUsPerRequest - base.serverCpuUsPerRequest)} µs (https-certgate − https-openssl).`);
      const em = sm['express-openssl-mw'];
      if (ec.mtlsUsPerRequest !== undefined) {
        L.push(
          `Inside the express-certgate server, \`mtls()\` itself takes ${f(ec.mtlsUsPerRequest)} µs per request it decides synchronously (${Math.round(100 * ec.mtlsTimedShare)} % of the requests: those on a connection already decided), timed in the server around the middleware (the timing wrapper included): ${f((100 * ec.mtlsUsPerRequest) / ec.serverCpuUsPerRequest)} % of that server's CPU per request. By this measure, which the noise between server processes does not blur, express-certgate serves ${x2(1 - ec.mtlsUsPerRequest / ec.serverCpuUsPerRequest)} the requests/s of the same server without \`mtls()\`.`,
        );
      }
      if (em) L.push(`One no-op Express middleware alone costs ${f(em.serverCpuUsPerRequest - eo.serverCpuUsPerRequest)} µs (express-openssl-mw − express-openssl); express-certgate − express-openssl-mw = ${f(ec.serverCpuUsPerRequest - em.serverCpuUsPerRequest)} µs, ${x2(ec.rps / em.rps)} requests/s.`);
      L.push('');
    }
  }

  const peer = result.parts.peer;
  if (peer) {
    L.push('## 3b. Reading the client certificate off the socket');
    L.push('');
    L.push(`On live TLS connections over 127.0.0.1 (leaf + intermediate presented): the first call on a fresh connection (median over ${peer.connections ?? '?'} connections per call) and repeated calls on one connection (median of ${peer.rounds} rounds of ${peer.perCall}). \`@certgate/tls\` reads the chain once per connection (and again after a settings change), so the first-call figure is paid by every new connection.`);
    L.push('');
    L.push(table(['call', 'first call on a new connection, µs', 'repeated, µs'], Object.entries(peer.us).map(([k, u]) => [k, f(peer.firstCallUs?.[k]), f(u)])));
    L.push('');
  }

  const mem = result.parts.memory;
  if (mem) {
    L.push('## 4. Memory');
    L.push('');
    L.push(`${mem.n.toLocaleString('en-US')} distinct, valid client certificates (made on the fly from one template: new serial, re-signed by the intermediate), each decided once; \`heapUsed\` after \`global.gc()\`.`);
    L.push('');
    L.push(
      table(
        ['through', 'heapUsed before', 'after', 'growth', 'growth in the second half', 'not allowed'],
        mem.phases.map((p) => [p.name, `${f(p.heapUsedBeforeMb)} MB`, `${f(p.heapUsedAfterMb)} MB`, `${f(p.heapGrowthMb)} MB`, `${f(p.heapGrowthSecondHalfMb)} MB`, String(p.failures)]),
      ),
    );
    L.push('');
    for (const p of mem.phases) {
      L.push(`${p.name}, heapUsed (MB) after n certificates: ${p.samples.map((s) => `${s.n.toLocaleString('en-US')}: ${s.heapUsedMb.toFixed(1)}${s.entries !== undefined ? ` (${s.entries} entries)` : ''}`).join(' · ')}`);
      L.push('');
    }
  }

  const p = result.parts.parse;
  if (Array.isArray(p)) {
    L.push('## 5. Parser and signature micro-benchmarks (`bench/parse.mjs`)');
    L.push('');
    L.push(table(['operation', 'median µs', 'p90 µs'], p.map((r) => [r.label.trim(), f(r.median), f(r.p90)])));
    L.push('');
  }
  return `${L.join('\n')}\n`;
}
