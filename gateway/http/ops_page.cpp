// The operator dashboard page: HTML, one script and one style sheet, all
// served from /ops so the Content-Security-Policy can say 'self' and
// nothing else (no inline script or style, no event-handler attributes).
//
// The script never uses innerHTML: every value from the API goes in with
// textContent, so a recipient id or a rule name cannot become markup.
// Identity: with mutual TLS the browser presents the operator's
// certificate and fetch() needs nothing more; otherwise the operator
// pastes a SMART access token (or opens /ops#token=...), which stays in
// sessionStorage for the tab and goes out as `Authorization: Bearer`.
#include "gateway/http/detail/ops_page.hpp"

namespace gw::http::detail {

const std::string_view kOpsPageHtml = R"html(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Gateway operations</title>
<link rel="stylesheet" href="/ops/app.css">
<script src="/ops/app.js" defer></script>
</head>
<body data-state="loading" data-loads="0">
<header>
  <h1>Gateway operations</h1>
  <p id="status" role="status">Loading&hellip;</p>
  <button type="button" id="refresh">Refresh</button>
</header>
<form id="login" hidden>
  <label for="token">Operator access token</label>
  <input id="token" type="password" autocomplete="off" spellcheck="false">
  <button type="submit">Use token</button>
  <p>Operators sign in with their client certificate or a SMART access token carrying
  <code>system/Operations.read</code>.</p>
</form>
<main id="panels">
<section>
  <h2>Queues</h2>
  <table id="queues"><thead><tr><th>Recipient</th><th>Pending</th><th>In flight</th><th>Dead letters</th><th>Oldest pending</th></tr></thead><tbody></tbody></table>
</section>
<section>
  <h2>Dead letters</h2>
  <table id="dead-letters"><thead><tr><th>Id</th><th>Recipient</th><th>Kind</th><th>Attempts</th><th>Last error</th><th>Queued</th><th>Dead since</th><th></th></tr></thead><tbody></tbody></table>
</section>
<section>
  <h2>Delivery latency</h2>
  <table id="latency"><thead><tr><th>Recipient</th><th>Delivered</th><th>Mean</th><th>p50 &le;</th><th>p90 &le;</th><th>p99 &le;</th></tr></thead><tbody></tbody></table>
</section>
<section>
  <h2>Validation failures by rule</h2>
  <table id="validation"><thead><tr><th>Rule</th><th>Severity</th><th>Last hour</th><th>Since start</th></tr></thead><tbody></tbody></table>
</section>
<section>
  <h2>Redactions by category</h2>
  <table id="redactions"><thead><tr><th>Category</th><th>Removals</th></tr></thead><tbody></tbody></table>
</section>
<section>
  <h2>Continuity of care</h2>
  <p class="note">De-identified: counts below <span id="min-cell">k</span> are shown as &ldquo;&lt;k&rdquo;.</p>
  <table id="continuity"><thead><tr><th>Measure</th><th>Handoffs</th><th>Share</th></tr></thead><tbody></tbody></table>
  <table id="follow-up"><thead><tr><th>Discharge to follow-up</th><th>Handoffs</th></tr></thead><tbody></tbody></table>
  <table id="delivered"><thead><tr><th>Recipient</th><th>Handoffs delivered</th></tr></thead><tbody></tbody></table>
</section>
</main>
</body>
</html>
)html";

const std::string_view kOpsPageJs = R"js('use strict';
(function () {
  const TOKEN = 'gw-ops-token';
  let loads = 0;

  // A token handed over in the fragment (never sent to the server) is
  // moved to sessionStorage and removed from the address bar.
  const m = /^#token=([^&]+)$/.exec(location.hash);
  if (m) {
    sessionStorage.setItem(TOKEN, decodeURIComponent(m[1]));
    history.replaceState(null, '', location.pathname);
  }

  class AuthError extends Error {}

  async function api(path, method) {
    const headers = { 'Accept': 'application/json' };
    const token = sessionStorage.getItem(TOKEN);
    if (token) headers['Authorization'] = 'Bearer ' + token;
    if (method === 'POST') headers['X-Ops-Request'] = '1';
    const r = await fetch('/ops/api/' + path, { method: method || 'GET', headers, cache: 'no-store', credentials: 'same-origin' });
    if (r.status === 401 || r.status === 403) throw new AuthError(r.status === 401 ? 'Sign in as an operator.' : 'This identity is not an operator.');
    if (!r.ok) throw new Error('The gateway answered ' + r.status + ' for ' + path + '.');
    return r.json();
  }

  function cell(row, value, cls) {
    const td = document.createElement('td');
    td.textContent = value === null || value === undefined ? '\u2013' : String(value);
    if (cls) td.className = cls;
    row.appendChild(td);
    return td;
  }

  function fill(id, items, render) {
    const body = document.querySelector('#' + id + ' tbody');
    body.replaceChildren();
    for (const item of items) {
      const tr = document.createElement('tr');
      render(tr, item);
      body.appendChild(tr);
    }
    if (items.length === 0) {
      const tr = document.createElement('tr');
      tr.className = 'empty';
      const td = cell(tr, 'none');
      td.colSpan = document.querySelectorAll('#' + id + ' thead th').length;
      body.appendChild(tr);
    }
  }

  function duration(s) {
    if (s === null || s === undefined) return null;
    if (s < 120) return s + ' s';
    if (s < 7200) return Math.round(s / 60) + ' min';
    if (s < 172800) return Math.round(s / 3600) + ' h';
    return Math.round(s / 86400) + ' d';
  }

  function share(v) { return v === null ? 'suppressed' : (v * 100).toFixed(1) + ' %'; }

  async function replay(id, button) {
    button.disabled = true;
    try {
      await api('dead-letters/' + encodeURIComponent(id) + '/replay', 'POST');
    } catch (e) {
      status(e.message, true);
      return load(null);
    }
    await load('Dead letter ' + id + ' queued again.');
  }

  function status(text, bad) {
    const p = document.getElementById('status');
    p.textContent = text;
    p.className = bad ? 'bad' : '';
  }

  // Reloads every table. `message`: what the status line says after a
  // successful load (default: the time); null keeps the current text.
  async function load(message) {
    try {
      const [queues, dead, latency, validation, redactions, continuity] = await Promise.all(
        ['queues', 'dead-letters', 'latency', 'validation', 'redactions', 'continuity'].map((p) => api(p)));
      fill('queues', queues.queues, (tr, q) => {
        tr.dataset.recipient = q.recipient;
        cell(tr, q.recipient); cell(tr, q.pending, 'num'); cell(tr, q.in_flight, 'num'); cell(tr, q.dead, 'num');
        cell(tr, duration(q.oldest_pending_age_s), 'num');
      });
      fill('dead-letters', dead.dead_letters, (tr, d) => {
        tr.dataset.id = String(d.id);
        cell(tr, d.id, 'num'); cell(tr, d.recipient); cell(tr, d.kind); cell(tr, d.attempts, 'num');
        cell(tr, d.error_class); cell(tr, d.queued_at); cell(tr, d.dead_since);
        const td = cell(tr, '');
        const b = document.createElement('button');
        b.type = 'button';
        b.className = 'replay';
        b.dataset.id = String(d.id);
        b.textContent = 'Replay';
        b.addEventListener('click', () => replay(d.id, b));
        td.appendChild(b);
      });
      fill('latency', latency.recipients, (tr, l) => {
        cell(tr, l.recipient); cell(tr, l.delivered, 'num'); cell(tr, duration(l.mean_s === null ? null : Math.round(l.mean_s)), 'num');
        cell(tr, duration(l.p50_s), 'num'); cell(tr, duration(l.p90_s), 'num'); cell(tr, duration(l.p99_s), 'num');
      });
      fill('validation', validation.rules, (tr, r) => {
        tr.dataset.rule = r.rule;
        cell(tr, r.rule); cell(tr, r.severity); cell(tr, r.last_hour, 'num'); cell(tr, r.since_start, 'num');
      });
      fill('redactions', redactions.categories, (tr, r) => { cell(tr, r.category); cell(tr, r.removals, 'num'); });
      document.getElementById('min-cell').textContent = String(continuity.min_cell_size);
      fill('continuity', [
        ['Handoffs counted', continuity.handoffs, null],
        ['With immunizations', continuity.immunizations.handoffs, continuity.immunizations.share],
        ['Interpreter needed', continuity.interpreter.handoffs, continuity.interpreter.share],
      ], (tr, [name, n, s]) => { tr.dataset.measure = name; cell(tr, name); cell(tr, n, 'num'); cell(tr, s === null && name === 'Handoffs counted' ? '' : share(s), 'num'); });
      fill('follow-up', continuity.follow_up, (tr, b) => { tr.dataset.bucket = b.bucket; cell(tr, b.bucket); cell(tr, b.handoffs, 'num'); });
      fill('delivered', continuity.delivered, (tr, d) => { tr.dataset.recipient = d.recipient; cell(tr, d.recipient); cell(tr, d.handoffs, 'num'); });
      document.getElementById('login').hidden = true;
      document.getElementById('panels').hidden = false;
      if (message !== null) status(message || 'Updated ' + new Date().toLocaleTimeString() + '.');
      document.body.dataset.state = 'ready';
    } catch (e) {
      if (e instanceof AuthError) {
        document.getElementById('login').hidden = false;
        document.getElementById('panels').hidden = true;
        document.body.dataset.state = 'login';
      } else {
        document.body.dataset.state = 'error';
      }
      status(e.message, true);
    }
    document.body.dataset.loads = String(++loads);
  }

  document.addEventListener('DOMContentLoaded', () => {
    document.getElementById('login').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const input = document.getElementById('token');
      sessionStorage.setItem(TOKEN, input.value.trim());
      input.value = '';
      status('Loading\u2026');
      load();
    });
    document.getElementById('refresh').addEventListener('click', () => { status('Loading\u2026'); load(); });
    load();
    setInterval(() => load(), 30000);
  });
})();
)js";

const std::string_view kOpsPageCss = R"css(body { font: 14px/1.4 system-ui, sans-serif; margin: 0 1.5rem 2rem; color: #1d1d1f; }
header { display: flex; align-items: baseline; gap: 1rem; flex-wrap: wrap; }
h1 { font-size: 1.4rem; }
h2 { font-size: 1.1rem; margin-top: 1.6rem; }
table { border-collapse: collapse; margin: 0.4rem 1.5rem 0.8rem 0; min-width: 20rem; display: inline-table; vertical-align: top; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: left; }
th { background: #f3f3f5; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.empty td { color: #888; font-style: italic; }
#status.bad { color: #b00020; font-weight: 600; }
form#login { border: 1px solid #ccc; padding: 1rem; max-width: 36rem; }
form#login input { width: 100%; margin: 0.4rem 0; }
button.replay { cursor: pointer; }
.note { color: #555; }
)css";

}  // namespace gw::http::detail
