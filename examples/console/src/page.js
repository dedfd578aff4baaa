// @ts-check
/**
 * The console's web page for now: static, loaded without the password (the certificate gate still
 * applies); the browser asks for the password (Basic auth) when the page calls the API. The full
 * settings page is a later issue.
 */
export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>certgate console</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 48rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; color: #222 }
pre { background: #f4f4f4; padding: 1rem; overflow: auto }
button { font: inherit; padding: .3rem .8rem }
</style>
</head>
<body>
<h1>certgate console</h1>
<p>Mutual TLS settings of this server. The API is documented in <code>docs/console.md</code>.
Loading the settings asks for the admin password (user <code>admin</code>).</p>
<p><button id="load">Load settings</button> <button id="who">Who am I?</button></p>
<pre id="out" aria-live="polite"></pre>
<script>
const out = document.getElementById('out');
async function show(path) {
  out.textContent = 'Loading…';
  try {
    const res = await fetch(path, { headers: { accept: 'application/json' } });
    out.textContent = res.status + ' ' + res.statusText + '\\n' + JSON.stringify(await res.json(), null, 2);
  } catch (e) {
    out.textContent = 'Request failed: ' + e;
  }
}
document.getElementById('load').addEventListener('click', () => show('/api/settings/mtls'));
document.getElementById('who').addEventListener('click', () => show('/api/whoami'));
</script>
</body>
</html>
`;
