// certgate console page: talks to the settings API of DESIGN §5.2 (docs/console.md).
// Plain browser JavaScript, no build step. Every value from the server goes into the page with
// textContent (never innerHTML); the admin password lives only in this tab's memory.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const MAX_CA_BYTES = 1024 * 1024; // the API refuses bodies over 1 MiB

  /** @type {string | null} */
  let password = null;
  /** @type {any} the last Settings the server sent */
  let settings = null;
  /** @type {any} the last whoami answer */
  let whoami = null;
  /** The countdown of a pending confirm window: interval id, or null. */
  let countdownTimer = null;
  /** Re-reads the settings a little after a deadline (the server reverts within a second). */
  let deadlineTimer = null;
  const AUDIT_SHOWN = 10;
  const PREVIEW_ROWS = 10;

  const MODE_HELP = {
    disabled: 'No client certificate is requested.',
    optional: 'Client certificates are requested and checked, but nobody is refused.',
    enforced: 'Only clients with a certificate that validates against the CA get in.',
  };

  // ---- small helpers -----------------------------------------------------------------------

  function text(id, value) {
    $(id).textContent = value == null ? '' : String(value);
  }

  function show(id, visible) {
    $(id).hidden = !visible;
  }

  function el(tag, props, children) {
    const e = document.createElement(tag);
    if (props) for (const [k, v] of Object.entries(props)) {
      if (k === 'text') e.textContent = v;
      else if (k === 'className') e.className = v;
      else e.setAttribute(k, v);
    }
    for (const c of children || []) e.append(c);
    return e;
  }

  /** `2027-01-31 12:00 UTC` from an ISO instant. */
  function formatInstant(iso) {
    if (!iso) return '—';
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    return d.toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
  }

  function plural(n, one, many) {
    return n + ' ' + (n === 1 ? one : (many || one + 's'));
  }

  /** "in 12 days", "today", "expired 3 days ago" from a whole number of days left. */
  function daysWording(days) {
    if (days == null || !Number.isFinite(days)) return '—';
    if (days < 0) return 'expired ' + plural(-days, 'day') + ' ago';
    if (days === 0) return 'less than a day';
    return plural(days, 'day');
  }

  /** `4 min 05 s` / `42 s` from seconds. */
  function formatSeconds(sec) {
    const m = Math.floor(sec / 60);
    const s = sec % 60;
    return m > 0 ? m + ' min ' + String(s).padStart(2, '0') + ' s' : s + ' s';
  }

  function daysUntil(iso) {
    return Math.floor((new Date(iso).getTime() - Date.now()) / 86400000);
  }

  function basicAuth(pw) {
    // RFC 7617 with charset UTF-8: base64 of the UTF-8 bytes of "admin:password".
    const bytes = new TextEncoder().encode('admin:' + pw);
    let bin = '';
    for (const b of bytes) bin += String.fromCharCode(b);
    return 'Basic ' + btoa(bin);
  }

  /**
   * One API call. Resolves `{ status, body }` (body parsed JSON or null); network failures resolve
   * with status 0. The password goes only into the Authorization header of same-origin requests.
   */
  async function api(method, path, body) {
    // X-Requested-With: the API then answers a wrong password with a plain 401, no Basic challenge
    // (which would make the browser open its own password dialog over this page).
    const headers = { accept: 'application/json', 'x-requested-with': 'XMLHttpRequest' };
    if (password !== null) headers.authorization = basicAuth(password);
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res;
    try {
      res = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
        redirect: 'error',
      });
    } catch (err) {
      return { status: 0, body: null, networkError: String(err && err.message ? err.message : err) };
    }
    let parsed = null;
    try {
      parsed = await res.json();
    } catch {
      parsed = null;
    }
    return { status: res.status, body: parsed };
  }

  // ---- messages ----------------------------------------------------------------------------

  function clearMessages() {
    show('error', false);
    show('notice', false);
    text('error-message', '');
    text('error-reason', '');
    $('error-problems').replaceChildren();
    text('error-hint', '');
    show('error-reason', false);
    show('error-problems', false);
    show('error-hint', false);
    show('error-actions', false);
  }

  function notice(message) {
    text('notice', message);
    show('notice', true);
  }

  /**
   * Shows an error box: `message` word for word (the server's text), then the reason, the lint
   * problems, a hint on what to do, and a reload button for conflicts. Moves focus to the box so
   * keyboard and screen-reader users land on it.
   */
  function showErrorBox({ title, message, reason, problems, hint, reload }) {
    text('error-title', title || 'Not saved');
    text('error-message', message);
    if (reason) {
      text('error-reason', 'Reason: ' + reason);
      show('error-reason', true);
    }
    if (problems && problems.length) {
      const list = $('error-problems');
      for (const p of problems) {
        const where = typeof p.index === 'number' ? ' (block ' + (p.index + 1) + (p.subject ? ', ' + p.subject : '') + ')' : '';
        list.append(el('li', { 'data-code': String(p.code) }, [
          el('code', { text: String(p.code) }),
          ' ' + (p.severity === 'warning' ? 'warning: ' : '') + String(p.message) + where,
        ]));
      }
      show('error-problems', true);
    }
    if (hint) {
      text('error-hint', hint);
      show('error-hint', true);
    }
    show('error-actions', Boolean(reload));
    show('error', true);
    $('error').focus();
  }

  const showError = showErrorBox;

  const REASON_HINTS = {
    EXPIRED: 'The certificate has expired: issue a new one.',
    NOT_YET_VALID: 'The certificate is not valid yet: check the clocks, or wait.',
    UNKNOWN_ISSUER: 'The certificate was not issued by the uploaded CA (or an intermediate is missing).',
    EKU_MISMATCH: 'The certificate is not meant for client authentication (extended key usage).',
  };

  /** The error box for a failed API answer; `heading` replaces the default title (e.g. for confirm). */
  function showApiError(r, heading) {
    const showError = (o) => showErrorBox(heading ? { ...o, title: heading } : o);
    if (r.status === 0) {
      showError({ title: 'No answer', message: 'The request failed: ' + (r.networkError || 'network error') + '.', hint: 'Check that the console is still running, then reload the page.' });
      return;
    }
    let e = (r.body && r.body.error) || { code: 'HTTP_' + r.status, message: 'The server answered ' + r.status + '.' };
    // A browser that handled the Basic challenge itself may hand the page a 401 without the JSON body.
    if (r.status === 401) e = { code: 'UNAUTHORIZED', message: (r.body && r.body.error && r.body.error.message) || 'Sign in as admin with the console password.' };
    const code = String(e.code);
    const base = { message: String(e.message), reason: e.reason ? String(e.reason) : undefined };
    switch (code) {
      case 'CLIENT_CERT_MISSING':
        showError({ ...base, title: 'Enforcement refused', hint: 'This browser did not present a client certificate on this connection. Import your certificate (for example the .p12 from "pnpm certgate issue-client --p12"), close every window of the browser, open the console again and choose the certificate when asked. Then tick the box and save again.' });
        return;
      case 'CLIENT_CERT_UNTRUSTED':
        showError({ ...base, title: 'Enforcement refused', hint: (REASON_HINTS[e.reason] ? REASON_HINTS[e.reason] + ' ' : '') + 'Choose a certificate issued by this CA (restart the browser to be asked again), or upload the CA that issued yours.' });
        return;
      case 'CA_INVALID':
        showError({ ...base, title: 'CA refused', problems: Array.isArray(e.problems) ? e.problems : [], hint: 'Nothing was changed. Upload the CA certificate (PEM), not a private key, a CSR or a leaf certificate.' });
        return;
      case 'VERSION_CONFLICT':
        showError({ ...base, title: 'Changed by someone else', hint: 'Nothing was saved. Reload the settings to see the current state, then make your change again.', reload: true });
        return;
      case 'MTLS_UNAVAILABLE':
        showError({ ...base, title: 'mTLS is unavailable', hint: 'Change the login method to password first.' });
        return;
      case 'MTLS_ENABLED':
        showError({ ...base, title: 'Login method not changed' });
        return;
      case 'UNAUTHORIZED':
        showError({ ...base, title: 'Wrong password', hint: 'Sign in again with the admin password.' });
        signOut(false);
        return;
      default:
        showError({ ...base, title: r.status === 403 ? 'Access denied' : 'Not saved', hint: code ? 'Code: ' + code : undefined });
    }
  }

  // ---- rendering ---------------------------------------------------------------------------

  function certFacts(c) {
    const left = daysUntil(c.notAfter);
    const expires = el('span', { text: formatInstant(c.notAfter) });
    const items = [
      el('dt', { text: 'Subject' }), el('dd', { text: c.subject || '(empty)' }),
      el('dt', { text: 'Issuer' }), el('dd', { text: c.issuer || '(empty)' }),
      el('dt', { text: 'Expires' }), el('dd', null, [expires]),
    ];
    const dd = items[5];
    if (left < 0) dd.append(' ', el('span', { className: 'expiring', text: '(expired)' }));
    else if (left <= 30) dd.append(' ', el('span', { className: 'expiring', text: '(in ' + left + ' day' + (left === 1 ? '' : 's') + ')' }));
    return el('dl', { className: 'facts' }, items);
  }

  function renderSettings(s) {
    settings = s;
    const mode = $('mode');
    mode.textContent = s.mode;
    mode.dataset.mode = s.mode;
    text('mode-help', MODE_HELP[s.mode] || '');
    text('version', s.version);
    text('updated', s.updatedAt ? formatInstant(s.updatedAt) + (s.updatedBy ? ' by ' + s.updatedBy : '') : 'never');

    const list = $('ca-list');
    list.replaceChildren();
    const certs = (s.ca && s.ca.certificates) || [];
    for (const c of certs) list.append(el('li', null, [certFacts(c)]));
    show('ca-none', certs.length === 0);

    // The form mirrors the stored state; the CA text box stays empty (empty = keep the stored CA).
    $('enabled').checked = s.mode !== 'disabled';
    $('enforce').checked = s.mode === 'enforced';
    show('unavailable', !s.available);
    text('unavailable-reason', s.unavailableReason || '');
    $('enabled').disabled = !s.available && s.mode === 'disabled';
    syncEnforce();
    renderWarnings(Array.isArray(s.warnings) ? s.warnings : []);
    renderPending(s.pendingConfirmation || null);
    // The preview is about what enforcing would do: shown while optional (clients are recorded then).
    if (s.mode !== 'optional') {
      show('preview', false);
      $('preview-rows').replaceChildren();
    }
    renderWhoami();
  }

  function syncEnforce() {
    const enabled = $('enabled').checked;
    $('enforce').disabled = !enabled;
    if (!enabled) $('enforce').checked = false;
    show('confirm-options', $('enforce').checked);
  }

  /** Expiry warnings of the CA certificates and CRLs (Settings.warnings): the server's message word for word. */
  function renderWarnings(list) {
    const ul = $('warnings-list');
    ul.replaceChildren();
    for (const w of list) {
      ul.append(el('li', { 'data-code': String(w.code) }, [
        el('code', { text: String(w.code) }),
        ' ' + String(w.message),
      ]));
    }
    show('warnings', list.length > 0);
  }

  /**
   * The pending confirm window with a live countdown. It counts down from the server's
   * `secondsLeft` with the page's monotonic clock, so a wrong clock on this computer does not matter.
   */
  function renderPending(pc) {
    if (countdownTimer !== null) clearInterval(countdownTimer);
    if (deadlineTimer !== null) clearTimeout(deadlineTimer);
    countdownTimer = null;
    deadlineTimer = null;
    if (!pc) {
      show('pending', false);
      return;
    }
    const received = performance.now();
    const total = Math.max(0, Math.floor(Number(pc.secondsLeft) || 0));
    const d = new Date(pc.deadline);
    text('pending-deadline', Number.isNaN(d.getTime()) ? String(pc.deadline) : d.toISOString().slice(0, 19).replace('T', ' ') + ' UTC');
    const tick = () => {
      const left = Math.max(0, total - Math.floor((performance.now() - received) / 1000));
      const c = $('pending-countdown');
      c.textContent = left > 0 ? formatSeconds(left) : 'a moment';
      c.dataset.seconds = String(left);
      if (left === 0 && countdownTimer !== null) {
        clearInterval(countdownTimer);
        countdownTimer = null;
        // The server reverts within about a second of the deadline: read the new state then.
        deadlineTimer = setTimeout(refreshState, 1500);
      }
    };
    tick();
    if (total > 0) countdownTimer = setInterval(tick, 250);
    else deadlineTimer = setTimeout(refreshState, 1500);
    show('pending', true);
  }

  // ---- enforcement preview -----------------------------------------------------------------

  /** Renders a preview answer; `uploaded` says it was computed against the CA in the upload box. */
  function renderPreview(p, uploaded) {
    const locked = Math.max(0, Number(p.total) - Number(p.wouldPass));
    const summary = $('preview-summary');
    summary.dataset.locked = String(locked);
    summary.textContent = locked === 0
      ? (p.total > 0 ? 'Nobody would be locked out.' : 'No clients seen yet.')
      : plural(locked, 'client') + ' would be locked out.';
    const hours = Math.round(Number(p.windowSec) / 3600);
    text('preview-basis', (uploaded ? 'Checked against the CA in the upload box (nothing saved). ' : 'Checked against the uploaded CA. ')
      + 'Clients seen since ' + formatInstant(p.since) + (hours > 0 ? ' (the last ' + plural(hours, 'hour') + ')' : '') + ': '
      + plural(Number(p.total), 'client') + ', ' + Number(p.wouldPass) + ' would get in.');

    const reasons = $('preview-reasons');
    reasons.replaceChildren();
    if (p.noCertificate > 0) {
      reasons.append(el('li', { 'data-code': 'NO_CERTIFICATE' }, [el('strong', { text: plural(Number(p.noCertificate), 'connection') }), ' without a certificate']));
    }
    for (const [code, n] of Object.entries(p.wouldFail || {})) {
      reasons.append(el('li', { 'data-code': code }, [el('strong', { text: plural(Number(n), 'client') }), ' refused: ', el('code', { text: code })]));
    }
    if (p.evicted > 0) reasons.append(el('li', { className: 'hint', text: plural(Number(p.evicted), 'older client') + ' no longer listed (the record is bounded).' }));
    if (p.unrecorded > 0) reasons.append(el('li', { className: 'hint', text: plural(Number(p.unrecorded), 'oversized chain') + ' not recorded.' }));

    const rows = $('preview-rows');
    rows.replaceChildren();
    const clients = Array.isArray(p.clients) ? p.clients : [];
    for (const c of clients.slice(0, PREVIEW_ROWS)) {
      const ok = Boolean(c.verdict && c.verdict.ok);
      const verdict = ok ? 'would get in' : 'locked out: ' + String((c.verdict && c.verdict.code) || 'UNKNOWN');
      const subject = el('td', { 'data-label': 'Client' }, [c.subject || '(empty subject)']);
      if (c.expiresInDays != null && c.expiresInDays <= 30) subject.append(' ', el('span', { className: 'expiring', text: c.expiresInDays < 0 ? '(expired)' : '(expires in ' + plural(c.expiresInDays, 'day') + ')' }));
      rows.append(el('tr', { 'data-verdict': ok ? 'ok' : 'bad', 'data-fingerprint': String(c.fingerprint256 || '') }, [
        subject,
        el('td', { 'data-label': 'Verdict', className: ok ? 'v-ok' : 'v-bad', text: verdict }),
        el('td', { 'data-label': 'Connections', text: String(c.count) }),
        el('td', { 'data-label': 'Last seen', text: formatInstant(c.lastSeen) }),
      ]));
    }
    if (clients.length > PREVIEW_ROWS) {
      rows.append(el('tr', null, [el('td', { colspan: '4', className: 'hint', text: 'and ' + plural(clients.length - PREVIEW_ROWS, 'more client') + ' (GET /api/settings/mtls/preview lists all)' })]));
    }
    show('preview-clients', clients.length > 0);
    show('preview', true);
  }

  /** GET the preview against the CA in force (only while optional); quiet on failure. */
  async function loadPreview() {
    if (!settings || settings.mode !== 'optional') return;
    const r = await api('GET', '/api/settings/mtls/preview');
    if (r.status === 200 && r.body) renderPreview(r.body, false);
    else show('preview', false);
  }

  // ---- audit -------------------------------------------------------------------------------

  function auditLine(e) {
    const parts = [String(e.actor), String(e.action), String(e.outcome)];
    const side = (x) => (x ? x.mode + ' v' + x.version : '—');
    if (e.from || e.to) parts.push(side(e.from) + ' → ' + side(e.to));
    return parts.join(' · ');
  }

  async function loadAudit() {
    const r = await api('GET', '/api/audit?limit=' + AUDIT_SHOWN);
    const list = $('audit-list');
    list.replaceChildren();
    if (r.status !== 200 || !r.body || !Array.isArray(r.body.events)) {
      text('audit-empty', 'The audit log cannot be read right now' + (r.body && r.body.error ? ' (' + r.body.error.code + ')' : '') + '.');
      show('audit-empty', true);
      return;
    }
    for (const e of r.body.events) {
      const li = el('li', { 'data-action': String(e.action), 'data-outcome': String(e.outcome) }, [
        el('time', { datetime: String(e.at), text: formatInstant(e.at) }),
        ' ',
        el('span', { text: auditLine(e) }),
      ]);
      if (e.code) li.append(' ', el('code', { text: String(e.code) }));
      if (e.reason) li.append(el('span', { className: 'hint audit-reason', text: String(e.reason) }));
      list.append(li);
    }
    text('audit-empty', 'No audit events yet.');
    show('audit-empty', r.body.events.length === 0);
  }

  /** The preview and the audit list, after the settings were (re)loaded or changed. */
  function refreshExtras() {
    return Promise.all([loadPreview(), loadAudit()]);
  }

  /** Re-reads settings and whoami (e.g. after a confirm deadline), without touching the messages. */
  async function refreshState() {
    const [s, w] = await Promise.all([api('GET', '/api/settings/mtls'), api('GET', '/api/whoami')]);
    if (s.status !== 200 || !s.body) return;
    if (w.status === 200) whoami = w.body;
    const wasPending = settings && settings.pendingConfirmation;
    renderSettings(s.body);
    if (wasPending && !s.body.pendingConfirmation && s.body.mode === 'optional') {
      notice('Not confirmed in time: the mode went back to optional (version ' + s.body.version + ').');
    }
    await refreshExtras();
  }

  function renderWhoami() {
    const w = whoami;
    const v = $('cert-verdict');
    if (!w) return;
    text('user', w.user);
    const c = w.clientCertificate;
    const mode = settings ? settings.mode : 'disabled';
    if (!c) {
      v.dataset.verdict = 'none';
      v.textContent = 'No client certificate presented on this connection.';
      show('cert-facts', false);
      text('cert-hint', mode === 'disabled'
        ? 'Certificates are requested only while mutual TLS is enabled.'
        : 'Import your certificate into the browser, then close every browser window and open the console again: the browser asks which certificate to use on a new connection.');
      return;
    }
    show('cert-facts', true);
    text('cert-subject', c.subject || '(empty)');
    text('cert-issuer', c.issuer || '(empty)');
    text('cert-expires', formatInstant(c.notAfter));
    const days = typeof c.expiresInDays === 'number' ? c.expiresInDays : null;
    text('cert-days', daysWording(days));
    $('cert-days').className = days !== null && days <= 30 ? 'expiring' : '';
    text('cert-fingerprint', c.fingerprint256);
    if (c.verdict && c.verdict.ok) {
      v.dataset.verdict = 'ok';
      v.textContent = 'Valid: it validates against the uploaded CA.';
      text('cert-hint', mode === 'enforced' ? '' : 'You can enforce client certificate validation from this browser.');
    } else {
      v.dataset.verdict = 'bad';
      const code = c.verdict && c.verdict.code ? c.verdict.code : 'UNKNOWN';
      v.textContent = 'Not valid (' + code + ')';
      text('cert-hint', (c.verdict && c.verdict.message) || '');
    }
  }

  // ---- loading -----------------------------------------------------------------------------

  async function loadAll() {
    const [s, w, l] = await Promise.all([
      api('GET', '/api/settings/mtls'),
      api('GET', '/api/whoami'),
      api('GET', '/api/settings/login'),
    ]);
    for (const r of [s, w, l]) {
      if (r.status !== 200) {
        showApiError(r);
        return false;
      }
    }
    whoami = w.body;
    renderSettings(s.body);
    $('login-' + (l.body.method === 'smartcard' ? 'smartcard' : 'password')).checked = true;
    await refreshExtras();
    return true;
  }

  function signOut(clearBox) {
    renderPending(null);
    password = null;
    settings = null;
    whoami = null;
    show('console', false);
    show('signin', true);
    $('password').value = '';
    if (clearBox) clearMessages();
    $('password').focus();
  }

  // ---- events ------------------------------------------------------------------------------

  $('signin-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearMessages();
    const pw = $('password').value;
    if (!pw) {
      showError({ title: 'Sign in', message: 'Enter the admin password.' });
      return;
    }
    password = pw;
    $('signin-button').disabled = true;
    try {
      if (await loadAll()) {
        $('password').value = '';
        show('signin', false);
        show('console', true);
        $('state-title').focus({ preventScroll: true });
      }
    } finally {
      $('signin-button').disabled = false;
    }
  });

  $('signout-button').addEventListener('click', () => signOut(true));
  $('reload-button').addEventListener('click', async () => {
    clearMessages();
    if (await loadAll()) notice('Reloaded: version ' + settings.version + ', mode ' + settings.mode + '.');
  });
  $('enabled').addEventListener('change', syncEnforce);
  $('enforce').addEventListener('change', syncEnforce);

  $('ca-file').addEventListener('change', async () => {
    const file = $('ca-file').files && $('ca-file').files[0];
    if (!file) return;
    clearMessages();
    if (file.size > MAX_CA_BYTES) {
      showError({ title: 'File too large', message: 'The file is larger than 1 MiB; a CA bundle is a few kilobytes.' });
      $('ca-file').value = '';
      return;
    }
    $('ca-pem').value = await file.text();
  });

  $('mtls-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearMessages();
    const body = {
      enabled: $('enabled').checked,
      enforce: $('enabled').checked && $('enforce').checked,
    };
    const pem = $('ca-pem').value;
    if (pem.trim() !== '') body.caPem = pem;
    if (body.enforce && $('confirm-window').checked) {
      const raw = $('confirm-minutes').value.trim();
      const minutes = /^[0-9]{1,2}$/.test(raw) ? Number(raw) : NaN;
      if (!(minutes >= 1 && minutes <= 60)) {
        showError({ title: 'Not saved', message: 'The confirm window must be a whole number of minutes from 1 to 60.' });
        $('confirm-minutes').focus();
        return;
      }
      body.confirmWithinSec = minutes * 60;
    }
    if (settings) body.version = settings.version;
    $('save-button').disabled = true;
    try {
      const r = await api('PUT', '/api/settings/mtls', body);
      if (r.status === 200) {
        $('ca-pem').value = '';
        $('ca-file').value = '';
        await refreshWhoami();
        $('confirm-window').checked = false;
        renderSettings(r.body);
        notice('Saved: mode ' + r.body.mode + ' (version ' + r.body.version + ')'
          + (r.body.pendingConfirmation ? '. Confirm it before the deadline, or it goes back to optional.' : '.'));
        await refreshExtras();
        return;
      }
      if (r.status === 422 && r.body && r.body.settings) {
        // Partial success (§5.2): the rest of the save applied, enforcement did not.
        if (r.body.settings.version !== settings?.version) {
          $('ca-pem').value = '';
          $('ca-file').value = '';
        }
        renderSettings(r.body.settings);
      }
      showApiError(r);
      refreshExtras(); // refused saves are audit events too
    } finally {
      $('save-button').disabled = false;
    }
  });

  $('confirm-button').addEventListener('click', async () => {
    clearMessages();
    $('confirm-button').disabled = true;
    try {
      const r = await api('POST', '/api/settings/mtls/confirm', settings ? { version: settings.version } : {});
      if (r.status === 200 && r.body) {
        renderSettings(r.body);
        notice('Confirmed: the mode stays ' + r.body.mode + ' (version ' + r.body.version + ').');
        await refreshExtras();
        return;
      }
      const code = r.body && r.body.error ? String(r.body.error.code) : '';
      if (r.status === 422 && r.body && r.body.settings) renderSettings(r.body.settings);
      if (code === 'NO_PENDING_CONFIRMATION' || code === 'CONFIRMATION_EXPIRED') {
        showError({ title: 'Not confirmed', message: String(r.body.error.message), hint: code === 'CONFIRMATION_EXPIRED' ? 'The deadline has passed; the mode goes back to optional. Enforce again if you still want it.' : 'Reload the settings to see the current state.', reload: true });
      } else if (r.status === 403 || r.status === 422) {
        showError({ title: 'Not confirmed', message: String(r.body && r.body.error ? r.body.error.message : 'The server answered ' + r.status + '.'), reason: r.body && r.body.error && r.body.error.reason ? String(r.body.error.reason) : undefined, hint: 'Confirm from a browser that presents a certificate that validates against the uploaded CA.' });
      } else {
        showApiError(r, 'Not confirmed');
      }
      refreshExtras();
    } finally {
      $('confirm-button').disabled = false;
    }
  });

  $('preview-refresh').addEventListener('click', () => {
    clearMessages();
    loadPreview();
  });

  $('preview-ca-button').addEventListener('click', async () => {
    clearMessages();
    const pem = $('ca-pem').value;
    if (pem.trim() === '') {
      showError({ title: 'Nothing to check', message: 'Paste a CA into the upload box (or choose a file) first.' });
      $('ca-pem').focus();
      return;
    }
    $('preview-ca-button').disabled = true;
    try {
      const r = await api('POST', '/api/settings/mtls/preview', { caPem: pem });
      if (r.status === 200 && r.body) {
        renderPreview(r.body, true);
        return;
      }
      showApiError(r, 'Preview not possible');
    } finally {
      $('preview-ca-button').disabled = false;
    }
  });

  $('audit-refresh').addEventListener('click', () => loadAudit());

  async function refreshWhoami() {
    const w = await api('GET', '/api/whoami');
    if (w.status === 200) whoami = w.body;
  }

  $('login-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearMessages();
    const method = $('login-smartcard').checked ? 'smartcard' : 'password';
    const body = { method };
    if (settings) body.version = settings.version; // one state, one version (§5.2)
    $('login-save-button').disabled = true;
    try {
      const r = await api('PUT', '/api/settings/login', body);
      if (r.status === 200) {
        renderSettings(r.body.mtls);
        notice('Saved: users sign in with ' + r.body.method + '.');
        return;
      }
      showApiError(r);
    } finally {
      $('login-save-button').disabled = false;
    }
  });

  $('password').focus();
})();
