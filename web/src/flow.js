// The flow graph of a trace (docs/trace.md's JSON): what is drawn, as plain
// data, so the browser test and node's test runner read the same thing the
// page shows. The JSON gives every landing with its shortest path (the txs
// the funds went through, source first): the graph is the union of those
// paths, each edge carrying the sum of the landings whose path crosses it.
// Big traces stay readable: landings past `maxLandings` or below the
// minimum go into one "other landings" node, straight runs of txs (a peel
// chain) are merged into one node, a collapsed node hides what is behind
// it; `notes` says what was left out.
import { big, fmt, short } from './amount.js';

// Services a freeze request can be sent to (they hold customers' funds).
export const FREEZABLE = new Set(['exchange', 'payment_processor', 'custodian', 'service']);
export const CATEGORY_COLOURS = {
  exchange: '#2563eb',
  payment_processor: '#0d9488',
  bridge: '#ea580c',
  mixer: '#9333ea',
  gambling: '#dc2626',
  defi: '#ca8a04',
  holding: '#64748b',
  other: '#475569',
};
export function colourOf(category) {
  return CATEGORY_COLOURS[category] || CATEGORY_COLOURS.other;
}

// opts: maxLandings (default 40), maxNodes (default 250), minAmount (BigInt,
// base units of each landing's asset), since/until (unix seconds, on the
// landing's block time), collapsed (Set of node ids), merge (straight runs).
export function buildFlow(trace, opts = {}) {
  const maxLandings = opts.maxLandings ?? 40;
  const maxNodes = opts.maxNodes ?? 250;
  const minAmount = opts.minAmount ?? 0n;
  const collapsed = opts.collapsed ?? new Set();
  const merge = opts.merge ?? true;
  const notes = [];
  const all = trace.landings || [];
  const inWindow = (l) =>
    (opts.since == null || l.time >= opts.since) && (opts.until == null || l.time <= opts.until);
  const kept = [];
  const other = { count: 0, sums: new Map(), categories: new Map() };
  let filtered = 0;
  const addOther = (l) => {
    other.count++;
    other.sums.set(l.asset, (other.sums.get(l.asset) || 0n) + big(l.amount));
    other.categories.set(l.category, (other.categories.get(l.category) || 0) + 1);
  };
  const sorted = [...all].sort((a, b) => (big(b.amount) > big(a.amount) ? 1 : big(b.amount) < big(a.amount) ? -1 : 0));
  const decimalsOf = new Map();
  for (const l of sorted) decimalsOf.set(l.asset, l.decimals);
  // node budget: a landing costs its address plus the txs of its path not yet drawn
  const seenTx = new Set();
  for (const l of sorted) {
    if (!inWindow(l)) {
      filtered++;
      continue;
    }
    if (big(l.amount) < minAmount) {
      addOther(l);
      continue;
    }
    const fresh = (l.path || []).filter((t) => !seenTx.has(t)).length + 1;
    if (kept.length >= maxLandings || seenTx.size + kept.length + fresh > maxNodes) {
      addOther(l);
      continue;
    }
    (l.path || []).forEach((t) => seenTx.add(t));
    kept.push(l);
  }
  if (filtered) notes.push(`${filtered} landing(s) outside the time window are not drawn`);
  if (other.count)
    notes.push(
      `${other.count} smaller landing(s) aggregated into "other landings" (cap: ${maxLandings} landings, ${maxNodes} nodes${minAmount ? ', minimum ' + (opts.minText || minAmount) : ''}); their paths are not drawn`,
    );

  // the raw graph: node id -> node, edge key -> edge (sums per asset)
  const nodes = new Map();
  const edges = new Map();
  const srcId = 'src';
  nodes.set(srcId, { id: srcId, kind: 'source', label: 'source\n' + short(trace.source, 8), ref: trace.source });
  const addEdge = (a, b, asset, amount) => {
    const k = a + '>' + b;
    let e = edges.get(k);
    if (!e) edges.set(k, (e = { id: k, source: a, target: b, sums: new Map() }));
    e.sums.set(asset, (e.sums.get(asset) || 0n) + amount);
  };
  for (const l of kept) {
    const amt = big(l.amount);
    let prev = srcId;
    for (const t of l.path || []) {
      const id = 'tx:' + t;
      if (t === trace.source) continue; // a tx source is the source node itself
      if (!nodes.has(id)) nodes.set(id, { id, kind: 'tx', label: short(t, 6), ref: t, txs: [t] });
      addEdge(prev, id, l.asset, amt);
      prev = id;
    }
    const id = 'addr:' + l.address + ':' + l.asset;
    if (!nodes.has(id))
      nodes.set(id, {
        id,
        kind: 'landing',
        label: (l.entity || l.category || 'landing') + '\n' + short(l.address, 6),
        ref: l.address,
        category: l.category,
        entity: l.entity,
        asset: l.asset,
        amount: amt,
        decimals: l.decimals,
        freezable: FREEZABLE.has(l.category),
        tx: l.tx,
        block: l.block,
        time: l.time,
        hops: l.hops,
      });
    else nodes.get(id).amount += amt;
    addEdge(prev, id, l.asset, amt);
  }
  if (other.count) {
    const cats = [...other.categories].map(([c, n]) => `${n} ${c}`).join(', ');
    nodes.set('other', { id: 'other', kind: 'other', label: `${other.count} other landings\n${cats}`, ref: '' });
    for (const [asset, s] of other.sums) addEdge(srcId, 'other', asset, s);
  }

  if (merge) mergeRuns(nodes, edges);
  const hidden = hideCollapsed(nodes, edges, srcId, collapsed);
  if (hidden.count) notes.push(`${hidden.count} node(s) hidden behind collapsed node(s)`);

  const label = (sums) =>
    [...sums].map(([asset, s]) => `${fmt(s, decimalsOf.get(asset))} ${asset}`).join(' + ');
  const outNodes = [];
  for (const n of nodes.values()) {
    if (hidden.set.has(n.id)) continue;
    const o = { ...n };
    if (o.kind === 'landing') o.amountText = `${fmt(n.amount, n.decimals)} ${n.asset}`;
    if (collapsed.has(n.id)) {
      o.collapsed = true;
      o.label = `${n.label}\n[+${hidden.behind.get(n.id) || 0} hidden]`;
    }
    outNodes.push(o);
  }
  const outEdges = [];
  for (const e of edges.values())
    if (!hidden.set.has(e.source) && !hidden.set.has(e.target))
      outEdges.push({ id: e.id, source: e.source, target: e.target, label: label(e.sums), sums: e.sums });
  return {
    nodes: outNodes,
    edges: outEdges,
    notes,
    landingsDrawn: kept.length,
    landingsTotal: all.length,
  };
}

// Straight runs: a tx node with one edge in and one edge out, whose
// neighbour downstream is also such a tx, is merged with it ("k txs").
function mergeRuns(nodes, edges) {
  const ins = new Map(), outs = new Map();
  const index = () => {
    ins.clear();
    outs.clear();
    for (const e of edges.values()) {
      (outs.get(e.source) || outs.set(e.source, []).get(e.source)).push(e);
      (ins.get(e.target) || ins.set(e.target, []).get(e.target)).push(e);
    }
  };
  index();
  const straight = (id) => {
    const n = nodes.get(id);
    return n && n.kind === 'tx' && (ins.get(id) || []).length === 1 && (outs.get(id) || []).length === 1;
  };
  for (const id of [...nodes.keys()]) {
    if (!nodes.has(id) || !straight(id)) continue;
    let next = outs.get(id)[0].target;
    while (straight(next)) {
      // fold `next` into `id`: id's out-edge is replaced by next's out-edge
      const n = nodes.get(id), m = nodes.get(next);
      const eIn = outs.get(id)[0], eOut = outs.get(next)[0];
      edges.delete(eIn.id);
      edges.delete(eOut.id);
      const k = id + '>' + eOut.target;
      edges.set(k, { ...eOut, id: k, source: id });
      n.txs = n.txs.concat(m.txs);
      n.label = `${n.txs.length} txs\n${short(n.txs[0], 4)}→${short(n.txs[n.txs.length - 1], 4)}`;
      nodes.delete(next);
      index();
      next = eOut.target;
    }
  }
}

// Nodes reachable from the root only through a collapsed node are hidden.
function hideCollapsed(nodes, edges, root, collapsed) {
  const outs = new Map();
  for (const e of edges.values()) (outs.get(e.source) || outs.set(e.source, []).get(e.source)).push(e.target);
  const seen = new Set([root]);
  const stack = [root];
  while (stack.length) {
    const id = stack.pop();
    if (collapsed.has(id)) continue;
    for (const t of outs.get(id) || []) if (!seen.has(t)) seen.add(t), stack.push(t);
  }
  const set = new Set([...nodes.keys()].filter((id) => !seen.has(id)));
  // how many each collapsed node hides: its descendants that are hidden
  const behind = new Map();
  for (const c of collapsed) {
    if (!nodes.has(c) || set.has(c)) continue;
    const s = new Set(), st = [c];
    while (st.length) for (const t of outs.get(st.pop()) || []) if (set.has(t) && !s.has(t)) s.add(t), st.push(t);
    behind.set(c, s.size);
  }
  return { set, count: set.size, behind };
}
