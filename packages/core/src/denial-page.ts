/**
 * @module
 * The HTML page a browser gets with a 403 in `enforced` (DESIGN §5.2 "a readable HTML page for
 * browsers"): what went wrong in words (the contract message, the verification reason explained),
 * the certificate the browser presented, and what to do next. One template for every adapter.
 *
 * Never a stack trace, never the request's path or headers, never certificate bytes; the presented
 * certificate's subject and issuer are attacker-chosen text and are escaped like everything else.
 * The page is self-contained (a denied browser cannot load anything else from the site) and carries
 * a CSP that allows exactly its one inline style block, by hash.
 */
import { createHash } from 'node:crypto';
import type { Decision, DenialCode } from './controller/index.js';
import type { VerificationCode } from './types.js';

/** Escapes text for HTML element content and attribute values. */
function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** What each verification code means for the person at the browser. */
export const VERIFICATION_REASON_TEXT: Readonly<Record<VerificationCode, string>> = Object.freeze({
  EXPIRED: 'The certificate (or a CA certificate in its chain) has expired.',
  NOT_YET_VALID: 'The certificate (or a CA certificate in its chain) is not valid yet. Check the clocks of this computer and the server.',
  UNKNOWN_ISSUER: 'The certificate was not issued by a CA this site trusts (or the chain to that CA is incomplete).',
  BAD_SIGNATURE: 'A signature in the certificate chain does not verify: the certificate was altered or mis-issued.',
  NOT_A_CA: 'A certificate in the chain acts as a CA but is not allowed to.',
  PATH_LENGTH_EXCEEDED: 'The chain has more intermediate CAs than a CA in it allows.',
  KEY_USAGE: 'A certificate in the chain is not allowed to be used this way (key usage).',
  EKU_MISMATCH: 'The certificate is not meant for client authentication (extended key usage).',
  NAME_CONSTRAINTS: "The certificate's names are outside what its CA may certify (name constraints).",
  POLICY: 'The certificate chain does not satisfy the required certificate policies.',
  REVOKED: 'The certificate has been revoked by its CA.',
  REVOCATION_UNKNOWN: 'Whether the certificate has been revoked could not be determined.',
  UNKNOWN_CRITICAL_EXTENSION: 'The certificate has a critical extension this site does not understand.',
  MALFORMED: 'The certificate could not be read (it is not valid DER).',
  WEAK_ALGORITHM: 'The certificate uses a weak algorithm or key size (for example SHA-1 or RSA under 2048 bits).',
  UNSUPPORTED_ALGORITHM: 'The certificate uses an algorithm this site does not support.',
  CHAIN_TOO_LONG: 'The certificate chain is longer than this site accepts.',
  PATH_BUILDING_LIMIT: 'No chain to a trusted CA was found within the work limit.',
});

const HEADINGS: Readonly<Record<DenialCode, string>> = Object.freeze({
  CLIENT_CERT_MISSING: 'A client certificate is required',
  CLIENT_CERT_UNTRUSTED: 'Your client certificate was not accepted',
  NOT_ALLOWED: 'Your client certificate is not allowed here',
  SETTINGS_UNAVAILABLE: 'Access is paused',
});

const IMPORT_STEPS =
  '<li>Get a client certificate for this site from its administrator: a <code>.p12</code> (PKCS#12) file and its password. ' +
  'For a certgate development CA: <code>pnpm certgate issue-client --name you --p12 --password …</code>.</li>' +
  '<li>Import it into your browser. Chromium / Chrome / Edge: Settings → Privacy and security → Security → Manage certificates → Import. ' +
  'Firefox: Settings → Privacy &amp; Security → Certificates → View Certificates → Your Certificates → Import. ' +
  'macOS: double-click the file (Keychain Access).</li>';

const REOPEN_STEP =
  '<li>Close every window of the browser and open this page again. When the browser asks which certificate to use, choose that one. ' +
  '(Browsers remember the choice for a site until they are restarted.)</li>';

function whatToDo(code: DenialCode): string {
  switch (code) {
    case 'CLIENT_CERT_MISSING':
      return `<ol>${IMPORT_STEPS}${REOPEN_STEP}</ol>`;
    case 'CLIENT_CERT_UNTRUSTED':
      return (
        '<ol><li>If you have another certificate for this site, restart the browser and choose that one.</li>' +
        '<li>Otherwise ask the administrator for a certificate issued by the CA this site trusts, import it, and restart the browser.</li></ol>'
      );
    case 'NOT_ALLOWED':
      return (
        '<ol><li>Your certificate is valid, but this part of the site admits only certain certificates. ' +
        'If you have another certificate for this site, restart the browser and choose that one.</li>' +
        '<li>Otherwise ask the administrator to grant your certificate access.</li></ol>'
      );
    case 'SETTINGS_UNAVAILABLE':
      return (
        "<p>The server cannot read its mutual-TLS settings, so it lets nobody in. This is not a problem with your certificate. " +
        'An administrator with shell access must repair the settings (see “break-glass” in the certgate docs). Try again later.</p>'
      );
  }
}

const STYLE =
  'body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1d232b;background:#f5f7fa}' +
  'main{max-width:42rem;margin:3rem auto;padding:1.5rem;background:#fff;border:1px solid #d8dee6;border-radius:.5rem}' +
  'h1{margin:0 0 .5rem;font-size:1.5rem;color:#b3261e}h2{font-size:1.1rem;margin:1.25rem 0 .5rem}' +
  '.lead{font-weight:600}.status{color:#5a6573;margin:0 0 1rem}' +
  'code{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,monospace;font-size:.88em;background:#eef1f5;padding:0 .25rem;border-radius:.2rem}' +
  'dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem .75rem;margin:0}dt{color:#5a6573}dd{margin:0;overflow-wrap:anywhere}' +
  'ol{padding-left:1.25rem}li{margin:.35rem 0}' +
  '@media (max-width:30rem){main{margin:0;border:0;border-radius:0;padding:1rem}dl{grid-template-columns:1fr}}';

/** The page's Content-Security-Policy: nothing but its own inline style. */
export const DENIAL_PAGE_CSP = `default-src 'none'; style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

/**
 * Renders the 403 page for a denied decision.
 *
 * @example
 * const html = renderDenialPage(decision); // status 403, content-type text/html, CSP DENIAL_PAGE_CSP
 */
export function renderDenialPage(decision: Pick<Decision, 'denial' | 'certificate'>): string {
  const d = decision.denial ?? { code: 'CLIENT_CERT_UNTRUSTED' as const, message: 'Access denied.' };
  const heading = HEADINGS[d.code] ?? 'Access denied';
  const parts: string[] = [];
  parts.push(`<p class="lead">${esc(d.message)}</p>`);
  if (d.reason) {
    const explained = VERIFICATION_REASON_TEXT[d.reason] ?? '';
    parts.push(`<p>Reason: <code>${esc(d.reason)}</code>${explained ? ` — ${esc(explained)}` : ''}</p>`);
  }
  const c = decision.certificate;
  if (c && d.code !== 'CLIENT_CERT_MISSING') {
    parts.push(
      '<h2>The certificate your browser presented</h2><dl>' +
        `<dt>Subject</dt><dd>${esc(c.subject || '(empty)')}</dd>` +
        `<dt>Issuer</dt><dd>${esc(c.issuer || '(empty)')}</dd>` +
        `<dt>Expires</dt><dd>${esc(c.notAfter)}</dd>` +
        '</dl>',
    );
  }
  parts.push(`<h2>What to do</h2>${whatToDo(d.code) ?? ''}`);
  parts.push(`<p class="status">Code: <code>${esc(d.code)}</code> · HTTP 403</p>`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Access denied</title>
<style>${STYLE}</style>
</head><body><main>
<h1>Access denied</h1>
<p class="status">${esc(heading)}</p>
${parts.join('\n')}
</main></body></html>
`;
}
