// @ts-check
/**
 * The console's admin password: from `CERTGATE_ADMIN_PASSWORD`, or generated on the first start,
 * printed once, and only its scrypt hash stored (`admin-password.json`, mode 0600).
 */
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { existsSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const scrypt = /** @type {(pw: string, salt: Buffer, len: number, opts: object) => Promise<Buffer>} */ (promisify(scryptCb));
const PARAMS = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const KEYLEN = 32;

/** @typedef {{ algorithm: 'scrypt', N: number, r: number, p: number, salt: string, hash: string }} PasswordHash */

/** @param {string} password @returns {Promise<PasswordHash>} */
export async function hashPassword(password) {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, KEYLEN, PARAMS);
  return { algorithm: 'scrypt', N: PARAMS.N, r: PARAMS.r, p: PARAMS.p, salt: salt.toString('base64'), hash: hash.toString('base64') };
}

/** @param {string} password @param {PasswordHash} stored */
export async function verifyPassword(password, stored) {
  if (typeof password !== 'string' || password.length > 1024) return false;
  const expected = Buffer.from(stored.hash, 'base64');
  const got = await scrypt(password, Buffer.from(stored.salt, 'base64'), expected.length, { N: stored.N, r: stored.r, p: stored.p, maxmem: PARAMS.maxmem });
  return got.length === expected.length && timingSafeEqual(got, expected);
}

/**
 * A check that runs scrypt once per distinct password: after a success, the SHA-256 of that password
 * is remembered (in memory) and later requests with it are compared in constant time without scrypt.
 * @param {PasswordHash} h
 */
function checker(h) {
  /** @type {Buffer | null} */
  let known = null;
  /** @param {string} pw */
  return async (pw) => {
    if (typeof pw !== 'string' || pw.length > 1024) return false;
    const digest = createHash('sha256').update(pw, 'utf8').digest();
    if (known && timingSafeEqual(known, digest)) return true;
    const ok = await verifyPassword(pw, h);
    if (ok) known = digest;
    return ok;
  };
}

/**
 * The password check of the console, and the generated password when one was made now.
 * @param {string} dataDir
 * @param {string | undefined} fromEnv
 * @returns {Promise<{ check: (password: string) => Promise<boolean>, generated: string | null }>}
 */
export async function adminPassword(dataDir, fromEnv) {
  if (fromEnv !== undefined && fromEnv !== '') {
    const h = await hashPassword(fromEnv); // keep only a hash in memory
    return { check: checker(h), generated: null };
  }
  const file = join(dataDir, 'admin-password.json');
  if (existsSync(file)) {
    /** @type {PasswordHash} */
    const h = JSON.parse(await fsp.readFile(file, 'utf8'));
    if (h.algorithm !== 'scrypt' || typeof h.salt !== 'string' || typeof h.hash !== 'string') {
      throw new Error(`${file} is not a certgate password hash; delete it to generate a new password`);
    }
    return { check: checker(h), generated: null };
  }
  const generated = randomBytes(18).toString('base64url');
  const h = await hashPassword(generated);
  await fsp.writeFile(file, `${JSON.stringify(h, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  return { check: checker(h), generated };
}
