/**
 * Distinct 3-certificate chains (leaf, intermediate, root) from `@certgate/core/testing`.
 *
 * - `leaves`: one root, one intermediate, `count` distinct leaves (every leaf is a new certificate).
 * - `intermediates`: one root, `count` distinct intermediates (each with its own new key), one leaf each.
 *
 * RSA leaves take their key from a small pool (the validator never imports a leaf's key, it only
 * hashes its SPKI; the certificates are all distinct). Every issuer key is new.
 */
import 'reflect-metadata';
import { createCa, generateTestKey } from '@certgate/core/testing';

const HOUR = 3600_000;

async function inBatches(n, size, fn) {
  const out = [];
  for (let i = 0; i < n; i += size) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(size, n - i) }, (_, j) => fn(i + j)))));
  }
  return out;
}

/**
 * @param {{ key: 'ec-p256' | 'rsa-2048', variant: 'leaves' | 'intermediates', count: number }} o
 */
export async function makeChains({ key, variant, count }) {
  const notBefore = new Date(Date.now() - HOUR);
  const notAfter = new Date(Date.now() + 30 * 24 * HOUR);
  const validity = { notBefore, notAfter };
  const root = await createCa({ key, subject: `CN=bench root ${key} ${variant}, O=certgate bench`, ...validity });
  const leafKeys = key.startsWith('rsa') ? await inBatches(8, 4, () => generateTestKey(key)) : null;
  const leafKey = (i) => (leafKeys ? leafKeys[i % leafKeys.length] : key);
  let chains;
  if (variant === 'leaves') {
    const inter = await root.issueIntermediate({ key, subject: `CN=bench intermediate ${key}, O=certgate bench`, ...validity });
    chains = await inBatches(count, 16, async (i) => {
      const leaf = await inter.issue({ key: leafKey(i), subject: `CN=bench client ${i}, O=certgate bench`, san: { email: [`client${i}@bench.test`] }, ...validity });
      return { leaf, inter };
    });
  } else {
    chains = await inBatches(count, 8, async (i) => {
      const inter = await root.issueIntermediate({ key, subject: `CN=bench intermediate ${key} ${i}, O=certgate bench`, ...validity });
      const leaf = await inter.issue({ key: leafKey(i), subject: `CN=bench client ${i}, O=certgate bench`, san: { email: [`client${i}@bench.test`] }, ...validity });
      return { leaf, inter };
    });
  }
  return {
    key,
    variant,
    root,
    caPem: root.pem,
    chains: chains.map(({ leaf, inter }) => ({
      leafDer: leaf.der,
      interDer: inter.der,
      leafPem: leaf.pem,
      interPem: inter.pem,
    })),
  };
}
