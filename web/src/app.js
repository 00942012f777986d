// coinhound's investigation UI: one search box, an address page, a trace
// view with its flow graph, alerts live over SSE, cases kept in the browser.
// Every view is a link (#/address/..., #/trace?from=...); /?q=TERM opens
// the search for TERM. The page only calls the service's JSON endpoints and
// draws: what the answers mean is the library's (docs/*.md).
import cytoscape from 'cytoscape';
import dagre from 'cytoscape-dagre';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { api, call, apiKey, notServed } from './api.js';
import { big, fmt, parseCoins, when, short } from './amount.js';
import { buildFlow, colourOf, FREEZABLE, CATEGORY_COLOURS } from './flow.js';
import { listCases, getCase, saveCase, deleteCase, importCase } from './cases.js';
import { toTagPack, toStix, caseAddresses } from './exports.js';

cytoscape.use(dagre);

const $ = (sel, root = document) => root.querySelector(sel);
const view = () => $('#view');
const state = { status: null, cy: null, trace: null, flowOpts: null, alertsSource: null };
window.chUI = state; // read by the browser test (web/test/ui.test.mjs)

// ---- small DOM helpers (text is always set as text: no HTML injection) ----
function h(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = v;
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids.flat()) if (k != null && k !== false) e.append(k instanceof Node ? k : String(k));
  return e;
}
const link = (href, text, attrs = {}) => h('a', { href, ...attrs }, text);
const addrLink = (a) => (a ? link('#/address/' + encodeURIComponent(a), a, { class: 'mono' }) : h('span', { class: 'muted' }, '(none)'));
const txLink = (t) => link('#/tx/' + encodeURIComponent(t), short(t, 12), { class: 'mono', title: t });
function table(cols, rows, attrs = {}) {
  return h('table', attrs, h('thead', {}, h('tr', {}, cols.map((c) => h('th', {}, c)))), h('tbody', {}, rows));
}
function errorBox(e, what) {
  const msg = notServed(e)
    ? `${what}: this service does not offer ${e.path.split('?')[0]} (an older coinhound serve?)`
    : `${what}: ${e.message}${e.status ? ' (HTTP ' + e.status + ')' : ''}`;
  return h('div', { class: 'error' }, msg);
}
function section(title, ...kids) {
  return h('section', { class: 'card' }, h('h2', {}, title), ...kids);
}
function kv(obj) {
  const rows = Object.entries(obj || {})
    .filter(([, v]) => v == null || typeof v !== 'object')
    .map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, v == null ? '' : String(v))));
  return h('table', { class: 'kv' }, h('tbody', {}, rows));
}
function download(name, text, type) {
  const a = h('a', { href: URL.createObjectURL(new Blob([text], { type })), download: name });
  document.body.append(a);
  a.click();
  a.remove();
}
function setView(...kids) {
  if (state.alertsSource) {
    state.alertsSource.close();
    state.alertsSource = null;
  }
  if (state.cy) {
    state.cy.destroy();
    state.cy = null;
  }
  view().replaceChildren(...kids);
  window.scrollTo(0, 0);
}
function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, query = ''] = raw.split('?');
  const parts = path.split('/').map(decodeURIComponent);
  return { parts, params: new URLSearchParams(query) };
}

// ---- search: what a term is, by its form; actors by name ----
export function classify(term) {
  const t = term.trim();
  if (/^\d{1,10}$/.test(t)) return ['block'];
  if (/^(0x)?[0-9a-fA-F]{64}$/.test(t)) return ['tx', 'block'];
  if (/^0x[0-9a-fA-F]{40}$/.test(t)) return ['address'];
  if (/^(bc1|tb1|bcrt1)[02-9ac-hj-np-z]{8,}$/i.test(t) || /^[123mn][1-9A-HJ-NP-Za-km-z]{25,34}$/.test(t)) return ['address'];
  if (/^(0x)?[0-9a-fA-F]{4,63}$/.test(t)) return ['tx', 'actor'];
  return ['actor'];
}

async function viewSearch(term) {
  const out = h('div', {}, h('p', {}, 'Searching for ', h('b', {}, term), '…'));
  setView(out);
  const kinds = classify(term);
  const found = [];
  const errors = [];
  for (const k of kinds) {
    try {
      if (k === 'tx') {
        const tx = await api.tx(term);
        found.push(['tx', tx.txid || tx.hash || term, 'transaction']);
      } else if (k === 'block') {
        const b = await api.block(term);
        found.push(['block', String(b.height ?? b.number ?? term), 'block ' + (b.height ?? b.number ?? '')]);
      } else if (k === 'address') {
        found.push(['address', term, 'address']);
      } else if (k === 'actor') {
        const actors = await api.actors();
        const list = Array.isArray(actors) ? actors : actors.actors || [];
        const needle = term.toLowerCase();
        for (const a of list) {
          const names = [a.name, a.attack_id, ...(a.aliases || []).map((x) => (typeof x === 'string' ? x : x.alias))].filter(Boolean).map(String);
          if (names.some((n) => n.toLowerCase().includes(needle))) found.push(['actor', a.name, 'actor ' + a.name + (a.attack_id ? ' (' + a.attack_id + ')' : '')]);
        }
      }
    } catch (e) {
      if (e.status !== 404 || notServed(e)) errors.push(errorBox(e, k));
    }
  }
  if (found.length === 1 && !errors.length) {
    location.replace('#/' + found[0][0] + '/' + encodeURIComponent(found[0][1]));
    return;
  }
  out.replaceChildren(
    h('h1', {}, 'Search: ', term),
    found.length
      ? h('ul', {}, found.map(([k, id, what]) => h('li', {}, link('#/' + k + '/' + encodeURIComponent(id), `${what}: ${id}`))))
      : h('p', {}, `Nothing found for "${term}" (looked for: ${kinds.join(', ')}).`),
    ...errors,
  );
}

// ---- address ----
async function viewAddress(a, params) {
  const cursor = params.get('cursor') || '';
  const head = h('div', { class: 'row' },
    h('h1', { class: 'mono' }, a),
    link(`#/trace?from=${encodeURIComponent(a)}`, 'Trace from this address →', { class: 'button', id: 'trace-from' }));
  const verdict = section('Verdict', h('p', { class: 'muted' }, 'screening…'));
  const summary = section('Balance and activity', h('p', { class: 'muted' }, 'loading…'));
  const cluster = section('Cluster', h('p', { class: 'muted' }, 'loading…'));
  const chart = section('Balance over time (this page of history)');
  const hist = section('History', h('p', { class: 'muted' }, 'loading…'));
  setView(head, h('div', { class: 'grid' }, verdict, summary), cluster, hist, chart);

  api.screen(a).then((v) => verdict.replaceChildren(h('h2', {}, 'Verdict'), renderVerdict(v)))
    .catch((e) => verdict.append(errorBox(e, 'screening')));
  api.address(a).then((s) => summary.replaceChildren(h('h2', {}, 'Balance and activity'), renderSummary(s)))
    .catch((e) => summary.replaceChildren(h('h2', {}, 'Balance and activity'), errorBox(e, 'address')));
  api.cluster(a).then((c) => cluster.replaceChildren(h('h2', {}, 'Cluster'), renderCluster(c)))
    .catch((e) => cluster.replaceChildren(h('h2', {}, 'Cluster'), errorBox(e, 'cluster')));
  api.history(a, cursor).then((p) => {
    hist.replaceChildren(h('h2', {}, 'History'), renderHistory(a, p, cursor));
    drawHistoryChart(chart, p);
  }).catch((e) => hist.replaceChildren(h('h2', {}, 'History'), errorBox(e, 'history')));
}

function renderVerdict(v) {
  const risk = h('p', { class: 'verdict risk-' + v.risk },
    h('b', {}, (v.risk || '?').toUpperCase()), ` score ${v.score ?? '?'}`,
    v.listed ? ' · listed' : ' · not listed',
    v.cluster ? ` · cluster ${v.cluster.id} of ${v.cluster.size} (${v.cluster.labelled} labelled)` : '');
  const reasons = (v.reasons || []).map((r) =>
    h('tr', {},
      h('td', {}, r.via), h('td', {}, r.category), h('td', {}, r.entity, r.actor ? ` (${r.actor})` : ''),
      h('td', {}, r.level), h('td', {},
        (r.sources && r.sources.length ? r.sources : [r]).map((s) =>
          h('div', {}, s.source_url ? link(s.source_url, s.source, { rel: 'noreferrer' }) : s.source,
            s.source_date ? ` (${s.source_date})` : '', s.delisted ? ' — delisted' : '',
            s.first_listed ? ` listed ${s.first_listed}` : ''))),
      h('td', {}, r.confidence ?? '')));
  const x = v.exposure;
  return h('div', { class: 'verdict-box' }, risk,
    reasons.length ? table(['via', 'category', 'entity', 'level', 'source', 'confidence'], reasons, { class: 'reasons' }) : h('p', { class: 'muted' }, 'No attribution names this address.'),
    x ? h('p', {}, `Indirect exposure (within ${x.max_hops} hops): ${x.level}, ${(100 * (x.flagged_share || 0)).toFixed(2)}% of ${fmt(x.received_units ?? x.received, 8)} ${x.asset} received`) : '',
    x && x.sources && x.sources.length
      ? table(['from', 'category', 'entity', 'amount', 'hops'], x.sources.slice(0, 20).map((s) =>
          h('tr', {}, h('td', {}, addrLink(s.address)), h('td', {}, s.category), h('td', {}, s.entity),
            h('td', { class: 'num' }, fmt(s.amount_units, 8) + ' ' + s.asset), h('td', {}, s.hops))))
      : '',
    (v.history || []).length ? h('p', { class: 'muted' }, `${v.history.length} past listing(s) (delisted)`) : '');
}

function renderSummary(s) {
  const rows = [];
  if (Array.isArray(s.balances)) {
    for (const b of s.balances)
      rows.push(h('tr', {}, h('td', { class: b.symbol ? '' : 'mono' }, b.symbol || b.asset), h('td', { class: 'num' }, b.balance == null ? 'unknown (store began later)' : fmt(b.balance, b.decimals)),
        h('td', { class: 'num' }, b.received != null ? fmt(b.received, b.decimals) : ''), h('td', { class: 'num' }, b.sent != null ? fmt(b.sent, b.decimals) : '')));
  } else {
    rows.push(h('tr', {}, h('td', {}, 'BTC'), h('td', { class: 'num', id: 'balance' }, fmt(String(s.balance), 8)),
      h('td', { class: 'num' }, fmt(String(s.received), 8)), h('td', { class: 'num' }, fmt(String(s.sent), 8))));
  }
  return h('div', {},
    table(['asset', 'balance', 'received', 'sent'], rows, { class: 'balances' }),
    h('p', {}, `${s.tx_count ?? '?'} txs`, s.transfers != null ? ` · ${s.transfers} transfers` : '',
      // UTXO: {height, time}; account: a block number
      s.first_seen != null ? (typeof s.first_seen === 'object' ? ` · first seen ${when(s.first_seen.time)} (block ${s.first_seen.height})` : ` · first seen in block ${s.first_seen}`) : '',
      s.last_seen != null ? (typeof s.last_seen === 'object' ? ` · last seen ${when(s.last_seen.time)}` : ` · last seen in block ${s.last_seen}`) : ''),
    s.counterparties && s.counterparties.length
      ? h('details', {}, h('summary', {}, `counterparties (${s.counterparties.length})`),
          table(['address', 'transfers'], s.counterparties.map((c) => h('tr', {}, h('td', {}, addrLink(c.address)), h('td', { class: 'num' }, c.transfers)))))
      : '');
}

function renderCluster(c) {
  const labels = (c.labels || []).map((l) => h('li', {}, typeof l === 'string' ? l : `${l.entity || ''} ${l.category || ''} ${l.address ? '(' + l.address + ')' : ''}`));
  return h('div', {},
    h('p', {}, `Cluster ${c.cluster} · ${c.size} address(es) · heuristics: ${c.heuristics || ''}`),
    labels.length ? h('ul', {}, labels) : h('p', { class: 'muted' }, 'No labelled member.'),
    h('details', {}, h('summary', {}, `members${c.members_truncated ? ' (first ones)' : ''}`),
      h('ul', {}, (c.members || []).slice(0, 200).map((m) => h('li', {}, addrLink(m))))));
}

function renderHistory(a, p, cursor) {
  const items = p.entries || p.txs || p.transfers || [];
  const rows = items.map((t) =>
    h('tr', {}, h('td', {}, txLink(t.txid || t.tx || t.hash)), h('td', {}, t.height ?? t.block_number ?? ''),
      h('td', {}, when(t.time)),
      h('td', { class: 'num' }, t.delta != null ? fmt(String(t.delta), 8)
        : `${big(t.value) === 0n ? '' : t.direction === 'out' ? '-' : '+'}${fmt(t.value, t.decimals)} ${t.symbol || short(t.asset, 6)}`),
      h('td', {}, t.direction === 'out' ? ['→ ', addrLink(t.to)] : t.from ? ['← ', addrLink(t.from)] : '')));
  const next = p.next_cursor ?? p.next;
  return h('div', {},
    table(['tx', 'block', 'time', 'amount', 'counterparty'], rows, { class: 'history' }),
    h('p', { class: 'pager' },
      cursor ? link(`#/address/${encodeURIComponent(a)}`, '⟲ newest') : '',
      ' ',
      next ? link(`#/address/${encodeURIComponent(a)}?cursor=${encodeURIComponent(next)}`, 'older →', { id: 'older' }) : h('span', { class: 'muted' }, 'end of history')));
}

function drawHistoryChart(box, p) {
  const items = (p.entries || p.txs || []).filter((t) => t.delta != null).slice().reverse();
  if (items.length < 2) return box.append(h('p', { class: 'muted' }, 'not enough points'));
  let run = 0;
  const xs = [], ys = [];
  for (const t of items) {
    run += Number(t.delta) / 1e8;
    xs.push(t.time);
    ys.push(run);
  }
  const el = h('div', { class: 'chart' });
  box.append(el, h('p', { class: 'muted' }, 'Net change over the txs shown, in BTC (from the oldest shown).'));
  new uPlot({ width: Math.min(900, box.clientWidth || 800), height: 220, series: [{}, { label: 'net BTC', stroke: '#2563eb', paths: uPlot.paths.stepped({ align: 1 }) }] }, [xs, ys], el);
}

// ---- tx, block, actor ----
async function viewTx(t) {
  setView(h('p', {}, 'loading…'));
  try {
    const tx = await api.tx(t);
    const id = tx.txid || tx.hash;
    const ins = (tx.inputs || []).map((i) => h('tr', {}, h('td', {}, addrLink(i.address)), h('td', { class: 'num' }, fmt(String(i.value), 8)), h('td', {}, i.txid ? txLink(i.txid) : 'coinbase')));
    const outs = (tx.outputs || []).map((o) => h('tr', {}, h('td', {}, o.n), h('td', {}, addrLink(o.address)), h('td', { class: 'num' }, fmt(String(o.value), 8)), h('td', {}, o.spent_by ? txLink(o.spent_by) : 'unspent')));
    setView(
      h('div', { class: 'row' }, h('h1', { class: 'mono' }, 'tx ', id), link(`#/trace?from=${encodeURIComponent(id)}`, 'Trace from this tx →', { class: 'button' })),
      section('Transaction', kv(tx)),
      ins.length ? section('Inputs', table(['address', 'value', 'spends'], ins)) : '',
      outs.length ? section('Outputs', table(['n', 'address', 'value', 'spent by'], outs)) : '',
      tx.transfers ? section('Transfers', h('pre', {}, JSON.stringify(tx.transfers, null, 1))) : '');
  } catch (e) {
    setView(errorBox(e, 'tx ' + t));
  }
}

async function viewBlock(b) {
  setView(h('p', {}, 'loading…'));
  try {
    const blk = await api.block(b);
    const n = blk.height ?? blk.number;
    const txs = (blk.tx || blk.txs || []).slice(0, 500).map((t) => h('li', {}, txLink(typeof t === 'string' ? t : t.txid || t.hash)));
    setView(h('h1', {}, 'block ', n ?? b),
      h('p', {}, n > 0 ? link(`#/block/${n - 1}`, '← previous') : '', ' ', link(`#/block/${n + 1}`, 'next →')),
      section('Header', kv(blk)), section(`Transactions (${(blk.tx || blk.txs || []).length})`, h('ol', { start: 0 }, txs)));
  } catch (e) {
    setView(errorBox(e, 'block ' + b));
  }
}

async function viewActor(name) {
  setView(h('p', {}, 'loading…'));
  try {
    const actors = await api.actors();
    const list = Array.isArray(actors) ? actors : actors.actors || [];
    const a = list.find((x) => x.name === name);
    if (!a) return setView(h('p', {}, `No actor "${name}".`));
    setView(h('h1', {}, a.name || name), section('Actor', kv(a)),
      a.aliases ? section('Aliases', h('p', {}, a.aliases.map((x) => (typeof x === 'string' ? x : `${x.alias}${x.source ? ' (' + x.source + ')' : ''}`)).join(', '))) : '',
      a.techniques ? section('Techniques (MITRE ATT&CK)', h('ul', {}, a.techniques.map((t) => h('li', {}, `${t.id} ${t.name}`)))) : '',
      a.addresses ? section('Addresses', h('ul', {}, a.addresses.map((x) => h('li', {}, addrLink(x.address || x))))) : '');
  } catch (e) {
    setView(errorBox(e, 'actors'));
  }
}

// ---- trace ----
function traceSpec(params) {
  // the service's TraceRequest (docs/openapi.json): the link says from=, as the CLI's --from
  const spec = { source: params.get('from') || '', policy: params.get('policy') || 'haircut', direction: params.get('direction') || 'forward' };
  if (params.get('max_hops')) spec.max_hops = Number(params.get('max_hops'));
  return spec;
}

function traceHash(spec, f) {
  const q = new URLSearchParams({ from: spec.source, policy: spec.policy, direction: spec.direction });
  if (spec.max_hops) q.set('max_hops', spec.max_hops);
  if (f.min) q.set('min', f.min);
  if (f.since) q.set('since', f.since);
  if (f.until) q.set('until', f.until);
  if (f.cap && f.cap !== '40') q.set('cap', f.cap);
  return '#/trace?' + q.toString();
}

async function viewTrace(params, savedCase) {
  const spec = savedCase ? savedCase.spec : traceSpec(params);
  const f = savedCase ? savedCase.filters || {} : { min: params.get('min') || '', since: params.get('since') || '', until: params.get('until') || '', cap: params.get('cap') || '40' };
  const sel = (name, opts, v) => h('select', { name }, opts.map((o) => h('option', { value: o, selected: o === v }, o)));
  const form = h('form', { class: 'controls', id: 'trace-form' },
    h('label', {}, 'from ', h('input', { name: 'from', value: spec.source, size: 50, class: 'mono', required: true })),
    h('label', {}, 'policy ', sel('policy', ['poison', 'haircut', 'fifo', 'lifo'], spec.policy)),
    h('label', {}, 'direction ', sel('direction', ['forward', 'backward'], spec.direction)),
    h('label', {}, 'max hops ', h('input', { name: 'max_hops', type: 'number', min: 0, value: spec.max_hops || '', size: 4 })),
    h('label', {}, 'min amount ', h('input', { name: 'min', value: f.min || '', size: 8, placeholder: 'coins' })),
    h('label', {}, 'from date ', h('input', { name: 'since', type: 'date', value: f.since || '' })),
    h('label', {}, 'to date ', h('input', { name: 'until', type: 'date', value: f.until || '' })),
    h('label', {}, 'draw at most ', h('input', { name: 'cap', type: 'number', min: 1, value: f.cap || '40', size: 4 }), ' landings'),
    h('button', { type: 'submit' }, savedCase ? 'Trace again' : 'Trace'));
  const summary = h('div', { id: 'trace-summary' });
  const notes = h('ul', { class: 'notes', id: 'graph-notes' });
  const graph = h('div', { id: 'graph' });
  const detail = h('div', { id: 'node-detail', class: 'card' }, h('p', { class: 'muted' }, 'Click a node for its details; double-click a tx to collapse or expand what is behind it.'));
  const fit = h('button', { id: 'fit', type: 'button', onclick: () => state.cy && state.cy.fit(undefined, 20) }, 'Fit the whole graph');
  const legend = h('div', { class: 'legend' }, fit, Object.entries(CATEGORY_COLOURS).map(([c, col]) => h('span', {}, h('i', { style: `background:${col}` }), c)), h('span', {}, h('i', { class: 'freeze' }), 'can be frozen (a service holds it)'));
  const landings = h('div', { id: 'landings' });
  const chart = h('div', { id: 'landed-chart' });
  const caseBox = h('div', { id: 'case-box' });
  setView(h('h1', {}, savedCase ? 'Case: ' + savedCase.name : 'Trace'), form, summary, legend, notes, h('div', { class: 'graph-row' }, graph, detail), caseBox, landings, chart);

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const d = Object.fromEntries(new FormData(form));
    const s = { source: d.from.trim(), policy: d.policy, direction: d.direction };
    if (d.max_hops) s.max_hops = Number(d.max_hops);
    const nf = { min: d.min, since: d.since, until: d.until, cap: d.cap };
    if (savedCase) {
      savedCase.spec = s;
      savedCase.filters = nf;
      savedCase.trace = null;
      saveCase(savedCase);
      viewTrace(params, savedCase);
    } else location.hash = traceHash(s, nf);
  });
  if (!spec.source) return summary.append(h('p', {}, 'Give a source: a txid, txid:vout or an address.'));

  let trace = savedCase && savedCase.trace;
  if (!trace) {
    summary.append(h('p', { class: 'muted' }, 'tracing…'));
    try {
      trace = await api.trace(spec);
    } catch (e) {
      return summary.replaceChildren(errorBox(e, 'trace'));
    }
    if (savedCase) {
      savedCase.trace = trace;
      saveCase(savedCase);
    }
  }
  state.trace = trace;
  const dec = (trace.assets || []).find((a) => a.asset === trace.tainted_asset)?.decimals ?? (trace.chain === 'btc' ? 8 : 18);
  const t = (k) => fmt(trace[k], dec) + ' ' + trace.tainted_asset;
  summary.replaceChildren(h('p', { class: 'totals' },
    `${trace.policy}, ${trace.direction} from `, h('span', { class: 'mono' }, trace.source), ` on ${trace.chain}: tainted ${t('tainted_total')} · landed ${t('landed_total')} · held ${t('held_total')} · fees ${t('fees')} · ${trace.txs} txs`));

  const collapsed = new Set();
  const filters = () => {
    const toUnix = (d, end) => (d ? Date.parse(d + (end ? 'T23:59:59Z' : 'T00:00:00Z')) / 1000 : null);
    return { minAmount: parseCoins(f.min, dec) ?? 0n, since: toUnix(f.since), until: toUnix(f.until, true), maxLandings: Number(f.cap) || 40, collapsed, minText: f.min ? `${f.min} ${trace.tainted_asset}` : '' };
  };
  const draw = () => {
    const flow = buildFlow(trace, filters());
    state.flow = flow;
    notes.replaceChildren(...flow.notes.map((n) => h('li', {}, n)),
      h('li', {}, `${flow.landingsDrawn} of ${flow.landingsTotal} landing(s) drawn, ${flow.nodes.length} nodes`));
    drawGraph(graph, flow, detail, toggle);
  };
  // collapse or expand a node, redraw, and show the node as it now is
  const toggle = (id) => {
    collapsed.has(id) ? collapsed.delete(id) : collapsed.add(id);
    draw();
    const n = state.cy.$id(id);
    if (n.length) showNode(detail, n.data(), toggle);
  };
  draw();
  renderLandings(landings, trace, dec);
  drawLandedChart(chart, trace, dec);
  renderCaseBox(caseBox, spec, f, trace, savedCase);
}

function drawGraph(el, flow, detail, toggle) {
  if (state.cy) state.cy.destroy();
  const elements = [
    ...flow.nodes.map((n) => ({ data: { ...n, amount: undefined, colour: n.kind === 'landing' ? colourOf(n.category) : n.kind === 'source' ? '#111827' : '#94a3b8' }, classes: [n.kind, n.freezable ? 'freezable' : '', n.collapsed ? 'collapsed' : ''].join(' ') })),
    ...flow.edges.map((e) => ({ data: { id: e.id, source: e.source, target: e.target, label: e.label } })),
  ];
  const cy = cytoscape({
    container: el,
    elements,
    wheelSensitivity: 0.3,
    style: [
      { selector: 'node', style: { label: 'data(label)', 'text-wrap': 'wrap', 'font-size': 9, 'text-valign': 'bottom', 'text-margin-y': 3, 'background-color': 'data(colour)', width: 18, height: 18 } },
      { selector: 'node.source', style: { shape: 'diamond', width: 28, height: 28 } },
      { selector: 'node.landing', style: { shape: 'round-rectangle', width: 34, height: 22 } },
      { selector: 'node.freezable', style: { 'border-width': 4, 'border-color': '#facc15' } },
      { selector: 'node.other', style: { shape: 'round-rectangle', 'background-color': '#e2e8f0', 'border-style': 'dashed', 'border-width': 2, 'border-color': '#64748b' } },
      { selector: 'node.collapsed', style: { 'border-width': 3, 'border-color': '#0f172a', 'border-style': 'double' } },
      { selector: 'edge', style: { label: 'data(label)', 'font-size': 8, 'curve-style': 'bezier', 'target-arrow-shape': 'triangle', width: 1.5, 'line-color': '#94a3b8', 'target-arrow-color': '#94a3b8', 'text-background-color': '#fff', 'text-background-opacity': 0.8 } },
      { selector: ':selected', style: { 'overlay-color': '#f59e0b', 'overlay-opacity': 0.25 } },
    ],
    layout: { name: 'dagre', rankDir: 'LR', nodeSep: 18, rankSep: 70, animate: false },
  });
  state.cy = cy;
  // a small graph is not blown up to fill the box (labels stay readable)
  if (cy.zoom() > 1.4) {
    cy.zoom(1.4);
    cy.center();
  }
  // a big one starts readable at its source (pan and zoom, or Fit, for the rest)
  const src = cy.$id('src');
  if (cy.zoom() < 0.65 && src.length) {
    cy.zoom(0.65);
    cy.pan({ x: 40 - src.position('x') * 0.65, y: el.clientHeight / 2 - src.position('y') * 0.65 });
  }
  cy.on('tap', 'node', (ev) => showNode(detail, ev.target.data(), toggle));
  cy.on('dbltap', 'node.tx', (ev) => toggle(ev.target.id()));
}

function showNode(detail, n, toggle) {
  const kids = [h('h2', {}, n.kind)];
  if (n.kind === 'landing') {
    kids.push(h('p', {}, addrLink(n.ref)), h('p', {}, `${n.entity || ''} (${n.category})`),
      h('p', {}, h('b', {}, n.amountText), ` in ${n.hops} hop(s)`),
      h('p', {}, 'arrived in ', txLink(n.tx), ` block ${n.block}, ${when(n.time)}`),
      h('p', { class: n.freezable ? 'freeze-note' : 'muted' }, n.freezable ? `Can still be frozen: ask ${n.entity || 'the service'} to freeze the deposit of tx ${short(n.tx, 10)}.` : `A ${n.category}: not a custodian to ask for a freeze.`));
  } else if (n.kind === 'tx') {
    kids.push(h('ul', {}, (n.txs || [n.ref]).map((t) => h('li', {}, txLink(t)))),
      h('button', { onclick: () => toggle(n.id) }, n.collapsed ? 'Expand' : 'Collapse what is behind it'));
  } else if (n.kind === 'source') {
    kids.push(h('p', { class: 'mono' }, n.ref));
  } else kids.push(h('p', {}, n.label));
  detail.replaceChildren(...kids);
}

function renderLandings(box, trace, dec) {
  const LIST_MAX = 500; // a big trace's table stays a page, not a million rows
  const rows = (trace.landings || []).slice(0, LIST_MAX).map((l) =>
    h('tr', { dataset: { address: l.address }, class: FREEZABLE.has(l.category) ? 'freezable' : '' },
      h('td', {}, addrLink(l.address)), h('td', {}, l.entity), h('td', {}, h('i', { class: 'dot', style: `background:${colourOf(l.category)}` }), l.category),
      h('td', { class: 'num' }, (l.amount_display ?? fmt(l.amount, l.decimals)) + ' ' + l.asset), h('td', {}, l.hops),
      h('td', {}, txLink(l.tx)), h('td', {}, l.block), h('td', {}, when(l.time)), h('td', {}, FREEZABLE.has(l.category) ? 'yes' : '')));
  const held = (trace.holdings || []).slice(0, 50).map((x) =>
    h('tr', {}, h('td', {}, addrLink(x.address)), h('td', { class: 'num' }, (x.amount_display ?? fmt(x.amount, x.decimals)) + ' ' + x.asset), h('td', {}, x.outputs ?? x.transfers)));
  box.replaceChildren(
    section(`Landings (${(trace.landings || []).length}${(trace.landings || []).length > LIST_MAX ? `, largest ${LIST_MAX} listed` : ''})`, table(['address', 'entity', 'category', 'amount', 'hops', 'arrived in tx', 'block', 'time', 'freezable'], rows, { class: 'landings' })),
    section(`Still held, not at a service (${(trace.holdings || []).length}${held.length < (trace.holdings || []).length ? ', largest 50 shown' : ''})`, table(['address', 'amount', 'outputs'], held)));
}

function drawLandedChart(box, trace, dec) {
  const ls = (trace.landings || []).filter((l) => l.asset === trace.tainted_asset && l.time).sort((a, b) => a.time - b.time);
  if (ls.length < 2) return;
  const xs = [], ys = [];
  let run = 0n;
  for (const l of ls) {
    run += big(l.amount);
    if (xs.length && xs[xs.length - 1] === l.time) ys[ys.length - 1] = Number(fmt(run, dec).replace(/,/g, ''));
    else xs.push(l.time), ys.push(Number(fmt(run, dec).replace(/,/g, '')));
  }
  const el = h('div', { class: 'chart' });
  box.replaceChildren(section(`Landed over time (${trace.tainted_asset}, cumulative)`, el));
  new uPlot({ width: Math.min(900, box.clientWidth || 800), height: 220, series: [{}, { label: 'landed ' + trace.tainted_asset, stroke: '#dc2626', fill: 'rgba(220,38,38,0.08)', paths: uPlot.paths.stepped({ align: 1 }) }] }, [xs, ys], el);
}

// ---- cases ----
function renderCaseBox(box, spec, filters, trace, saved) {
  const name = h('input', { name: 'case-name', value: saved ? saved.name : '', placeholder: 'case name', size: 30 });
  const tags = h('input', { name: 'case-tags', value: saved ? (saved.tags || []).join(', ') : '', placeholder: 'tags, comma separated', size: 30 });
  const notes = h('textarea', { name: 'case-notes', rows: 3, cols: 80, placeholder: 'notes' }, saved ? saved.notes || '' : '');
  const msg = h('span', { class: 'muted', id: 'case-msg' });
  const current = () => ({
    ...(saved || {}),
    name: name.value.trim() || 'trace of ' + short(spec.source, 8),
    tags: tags.value.split(',').map((s) => s.trim()).filter(Boolean),
    notes: notes.value,
    spec,
    filters,
    trace,
  });
  const save = h('button', { id: 'save-case', onclick: () => {
    const c = saveCase(current());
    saved = c;
    msg.replaceChildren('saved: ', link('#/case/' + c.id, 'open the case'), ' (kept in this browser)');
  } }, saved ? 'Save changes' : 'Save as case');
  const exp = (what) => async () => {
    const c = saved ? { ...current(), id: saved.id } : { ...current(), id: 'unsaved' };
    c.link = location.origin + '/#/case/' + c.id;
    const base = 'case-' + c.name.replace(/[^A-Za-z0-9_-]+/g, '_');
    if (what === 'tagpack') download(base + '.tagpack.yaml', toTagPack(c), 'application/yaml');
    else if (what === 'stix') download(base + '.stix.json', JSON.stringify(await toStix(c), null, 1), 'application/json');
    else if (what === 'json') download(base + '.case.json', JSON.stringify(c, null, 1), 'application/json');
    else if (what === 'report') exportReport(c, base, msg);
  };
  box.replaceChildren(section('Case',
    h('div', { class: 'row' }, name, tags), notes,
    h('div', { class: 'row' }, save,
      h('button', { id: 'export-report', onclick: exp('report') }, 'Export report (HTML)'),
      h('button', { id: 'export-tagpack', onclick: exp('tagpack') }, 'TagPack'),
      h('button', { id: 'export-stix', onclick: exp('stix') }, 'STIX bundle'),
      h('button', { id: 'export-json', onclick: exp('json') }, 'Case file'), msg),
    h('p', { class: 'muted' }, `${caseAddresses({ name: '', trace }).length} address(es) named by this case.`)));
}

// The case report is the library's (coinhound report case): asked of the
// service when it offers it; else the page says the command that writes it.
async function exportReport(c, base, msg) {
  let doc = null;
  try {
    doc = await api.openapi();
  } catch {
    /* no document: treated as no report endpoint */
  }
  const path = doc && doc.paths && Object.keys(doc.paths).find((p) => /report/.test(p) && /case/.test(p));
  const s = c.spec;
  const cli = `coinhound report case --db DIR --from ${s.source} --policy ${s.policy}${s.direction !== 'forward' ? ' --direction ' + s.direction : ''}${s.max_hops ? ' --max-hops ' + s.max_hops : ''} --out ${base}.html`;
  if (!path) {
    msg.replaceChildren('This service does not write case reports yet; on the server: ', h('code', {}, cli));
    return;
  }
  try {
    const headers = { 'Content-Type': 'application/json' };
    if (apiKey()) headers['X-API-Key'] = apiKey();
    const body = { trace: s, title: c.name, notes: c.notes || '', tags: (c.tags || []).slice(0, 32) };
    const res = await fetch(path, { method: 'POST', headers, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
    download(base + '.html', await res.text(), 'text/html');
    msg.replaceChildren('report written: ' + base + '.html');
  } catch (e) {
    msg.replaceChildren(`the report failed (${e.message}); on the server: `, h('code', {}, cli));
  }
}

function viewCases() {
  const list = listCases();
  const file = h('input', { type: 'file', accept: '.json', onchange: async (ev) => {
    try {
      const c = importCase(await ev.target.files[0].text());
      location.hash = '#/case/' + c.id;
    } catch (e) {
      alert('not a case: ' + e.message);
    }
  } });
  setView(h('h1', {}, 'Cases'),
    list.length
      ? table(['case', 'tags', 'source', 'policy', 'updated', ''], list.map((c) =>
          h('tr', {}, h('td', {}, link('#/case/' + c.id, c.name)), h('td', {}, (c.tags || []).join(', ')), h('td', { class: 'mono' }, short(c.spec.source, 12)),
            h('td', {}, c.spec.policy), h('td', {}, c.updated), h('td', {}, h('button', { onclick: () => { deleteCase(c.id); viewCases(); } }, 'delete')))))
      : h('p', {}, 'No case yet: trace something and "Save as case".'),
    h('p', {}, 'Open a case file: ', file));
}

// ---- alerts (SSE) ----
async function viewAlerts() {
  const rows = h('tbody', { id: 'alert-rows' });
  const live = h('span', { class: 'muted', id: 'live' }, 'connecting…');
  setView(h('h1', {}, 'Alerts ', live), table(['time', 'severity', 'rule', 'chain', 'block', 'tx', 'from → to', 'amount', 'why'], [rows], { class: 'alerts' }));
  const seen = new Set();
  const add = (a, top) => {
    if (!a || !a.id) return;
    const key = a.id + (a.retracted ? ':r' : '');
    if (seen.has(key)) return;
    seen.add(key);
    const tr = h('tr', { class: 'sev-' + a.severity + (a.retracted ? ' retracted' : ''), dataset: { id: a.id } },
      h('td', {}, when(a.time)), h('td', {}, a.retracted ? 'retracted' : a.severity), h('td', {}, a.rule), h('td', {}, a.chain),
      h('td', {}, a.height), h('td', {}, a.tx ? txLink(a.tx) : ''), h('td', {}, a.from ? addrLink(a.from) : '', ' → ', a.to ? addrLink(a.to) : ''),
      h('td', { class: 'num' }, `${a.amount ?? ''} ${a.asset ?? ''}`), h('td', {}, (a.reasons || []).map((r) => h('div', {}, r.why, r.source ? ` (${r.source})` : ''))));
    top ? rows.prepend(tr) : rows.append(tr);
  };
  try {
    const list = await api.alerts();
    const arr = Array.isArray(list) ? list : list.alerts || [];
    arr.slice().reverse().forEach((a) => add(a, false));
  } catch (e) {
    view().append(errorBox(e, 'alerts'));
  }
  if (!window.EventSource) return;
  const es = new EventSource('/v1/alerts/stream');
  state.alertsSource = es;
  const onMsg = (ev) => {
    try {
      add(JSON.parse(ev.data), true);
    } catch {
      /* a keep-alive or a line that is not an alert */
    }
  };
  es.onmessage = onMsg;
  es.addEventListener('alert', onMsg);
  es.onopen = () => live.replaceChildren('● live');
  es.onerror = () => live.replaceChildren('○ reconnecting (is the service up, and does it stream alerts?)');
}

// ---- settings ----
function viewSettings() {
  const key = h('input', { type: 'password', value: apiKey(), size: 40 });
  setView(h('h1', {}, 'Settings'), section('API key',
    h('p', {}, 'When the service asks keys (serve --keys), the key is kept in this browser and sent as X-API-Key.'),
    key, h('button', { onclick: () => { localStorage.setItem('coinhound.key', key.value); loadStatus(); } }, 'Save')));
}

// ---- routing ----
async function route() {
  const { parts, params } = parseHash();
  const [kind, arg] = parts;
  $('#q').value = kind === 'search' ? params.get('q') || '' : arg && kind !== 'case' ? arg : $('#q').value;
  document.querySelectorAll('nav a').forEach((a) => a.classList.toggle('active', a.getAttribute('href') === '#/' + kind));
  switch (kind) {
    case 'search': return viewSearch(params.get('q') || '');
    case 'address': return viewAddress(arg, params);
    case 'tx': return viewTx(arg);
    case 'block': return viewBlock(arg);
    case 'actor': return viewActor(arg);
    case 'trace': return viewTrace(params);
    case 'alerts': return viewAlerts();
    case 'cases': return viewCases();
    case 'case': {
      const c = getCase(arg);
      return c ? viewTrace(params, c) : setView(h('p', {}, `No case ${arg} in this browser (cases are kept per browser: import its case file).`));
    }
    case 'settings': return viewSettings();
    default: return viewHome();
  }
}

function viewHome() {
  setView(h('h1', {}, 'coinhound'),
    h('p', {}, 'Search an address, a transaction (or its first hex digits), a block (height or hash) or an actor. Every page is a link you can share; /?q=TERM opens a search.'),
    state.status && state.status.store ? kv(state.status.store) : '');
}

async function loadStatus() {
  try {
    state.status = await api.status();
    const s = state.status.store;
    $('#status').textContent = s ? `${s.chain} · ${s.blocks} blocks · tip ${s.tip_height ?? ''}` : state.status.source;
  } catch (e) {
    $('#status').textContent = e.status === 401 ? 'API key needed: Settings' : 'service: ' + e.message;
  }
}

function start() {
  $('#search').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = $('#q').value.trim();
    if (q) location.hash = '#/search?q=' + encodeURIComponent(q);
  });
  window.addEventListener('hashchange', route);
  const q = new URLSearchParams(location.search).get('q');
  if (q) {
    history.replaceState(null, '', location.pathname + '#/search?q=' + encodeURIComponent(q));
  }
  loadStatus();
  route();
}
start();
