import { TrustStore, verifyChain } from '@certgate/core';
import { makeChains } from './lib/chains.mjs';
const key = process.argv[2] ?? 'ec-p256';
const { set } = { set: await makeChains({ key, variant: 'intermediates', count: 2400 }) };
const store = TrustStore.fromPem(set.caPem);
const chains = set.chains;
let idx = 0;
const t = { on: [], off: [] };
for (let round = 0; round < 24; round++) {
  for (const mode of round % 2 ? ['on', 'off'] : ['off', 'on']) {
    globalThis.__noAhead = mode === 'off';
    const times = [];
    for (let i = 0; i < 50; i++) {
      const c = chains[idx++];
      const s = process.hrtime.bigint();
      const r = await verifyChain([c.leafDer, c.interDer], store);
      times.push(Number(process.hrtime.bigint() - s) / 1000);
      if (!r.ok) throw new Error(r.code);
    }
    times.sort((a, b) => a - b);
    if (round >= 4) t[mode].push(times[25]);
  }
}
const med = (a) => a.sort((x, y) => x - y)[a.length >> 1];
console.log(key, 'ahead on', med(t.on).toFixed(1), 'off', med(t.off).toFixed(1));
