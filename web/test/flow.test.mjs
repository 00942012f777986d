// The flow graph's model (src/flow.js), amounts (src/amount.js) and the
// case exports (src/exports.js), without a browser, on a trace worked out by
// hand:
//
//   source S -> t1 -> t2 -> t3 -> A1 (exchange, 500)
//                      t2 -> t4 -> A2 (mixer, 300)
//               t1 -> t5 -> A3 (exchange, 5)
//   source S -> t6 -> t7 -> t8 -> A4 (exchange, 10)   (a straight run)
//
// so the edge S->t1 carries 805, t1->t2 800, t1->t5 5; the run t6,t7,t8
// merges into one node; a minimum of 100 puts A3 and A4 (15) into "other".
// Prints cmocka-style lines for tests/run.sh.
import { buildFlow } from '../src/flow.js';
import { fmt, parseCoins } from '../src/amount.js';
import { toTagPack, caseAddresses } from '../src/exports.js';

let pass = 0, fail = 0;
function check(name, fn) {
  try {
    fn();
    pass++;
    console.log(`[       OK ] flow: ${name}`);
  } catch (e) {
    fail++;
    console.log(`[  ERROR   ] flow: ${name}\n    ${e.message}`);
  }
}
function eq(a, b, what) {
  const x = JSON.stringify(a, (k, v) => (typeof v === 'bigint' ? v.toString() : v));
  const y = JSON.stringify(b, (k, v) => (typeof v === 'bigint' ? v.toString() : v));
  if (x !== y) throw new Error(`${what}: got ${x}, want ${y}`);
}
const L = (address, category, amount, path, time = 1000) => ({ address, category, entity: category + ' ' + address, asset: 'BTC', decimals: 8, amount: String(amount), path, tx: path[path.length - 1], block: 1, time, hops: path.length - 1 });
const trace = {
  source: 'S',
  chain: 'btc',
  landings: [
    L('A1', 'exchange', 500, ['t1', 't2', 't3']),
    L('A2', 'mixer', 300, ['t1', 't2', 't4']),
    L('A4', 'exchange', 10, ['t6', 't7', 't8'], 5000),
    L('A3', 'exchange', 5, ['t1', 't5']),
  ],
};
const edgeMap = (f) => Object.fromEntries(f.edges.map((e) => [e.id, [...e.sums.values()].reduce((a, b) => a + b, 0n)]));

check('edges carry the sum of the landings whose path crosses them', () => {
  const f = buildFlow(trace, { merge: false });
  const e = edgeMap(f);
  eq(e['src>tx:t1'], 805n, 'S->t1');
  eq(e['tx:t1>tx:t2'], 800n, 't1->t2');
  eq(e['tx:t2>tx:t3'], 500n, 't2->t3');
  eq(e['tx:t1>tx:t5'], 5n, 't1->t5');
  eq(e['tx:t3>addr:A1:BTC'], 500n, 't3->A1');
  eq(f.nodes.length, 13, 'nodes: S, 8 txs, 4 landings');
  eq(f.landingsDrawn, 4, 'drawn');
});

check('a straight run of txs is merged into one node; branches are not', () => {
  const f = buildFlow(trace, {});
  const run = f.nodes.find((n) => n.id === 'tx:t6');
  eq(run.txs, ['t6', 't7', 't8'], 'merged txs');
  eq(f.nodes.some((n) => n.id === 'tx:t7' || n.id === 'tx:t8'), false, 't7, t8 gone');
  eq(edgeMap(f)['tx:t6>addr:A4:BTC'], 10n, 'run -> A4');
  // t3 and t4 are straight but lead to a landing at once: nothing to merge with
  eq(['tx:t1', 'tx:t2', 'tx:t3', 'tx:t4', 'tx:t5'].every((id) => f.nodes.some((n) => n.id === id)), true, 'branch txs kept');
});

check('landings below the minimum go into one "other" node, and a note says so', () => {
  const f = buildFlow(trace, { minAmount: 100n });
  const o = f.nodes.find((n) => n.id === 'other');
  eq(o.label.split('\n')[0], '2 other landings', 'label');
  eq(edgeMap(f)['src>other'], 15n, 'S->other');
  eq(f.landingsDrawn, 2, 'drawn');
  eq(f.notes.some((n) => /2 smaller landing/.test(n)), true, 'note');
});

check('the cap on landings aggregates the rest, largest drawn first', () => {
  const f = buildFlow(trace, { maxLandings: 1 });
  eq(f.nodes.filter((n) => n.kind === 'landing').map((n) => n.ref), ['A1'], 'drawn');
  eq(edgeMap(f)['src>other'], 315n, 'other');
});

check('collapsing a node hides what is reachable only through it, and counts it', () => {
  const f = buildFlow(trace, { merge: false, collapsed: new Set(['tx:t2']) });
  const ids = f.nodes.map((n) => n.id);
  eq(['tx:t3', 'tx:t4', 'addr:A1:BTC', 'addr:A2:BTC'].some((id) => ids.includes(id)), false, 'hidden');
  eq(ids.includes('addr:A3:BTC'), true, 'A3 still drawn');
  eq(f.nodes.find((n) => n.id === 'tx:t2').label.endsWith('[+4 hidden]'), true, 'label');
});

check('the time window drops landings outside it, and says so', () => {
  const f = buildFlow(trace, { since: 2000 });
  eq(f.nodes.filter((n) => n.kind === 'landing').map((n) => n.ref), ['A4'], 'only A4 is after 2000');
  eq(f.notes.some((n) => /3 landing\(s\) outside the time window/.test(n)), true, 'note');
});

check('custodians are freezable, a mixer is not', () => {
  const f = buildFlow(trace, {});
  const by = Object.fromEntries(f.nodes.filter((n) => n.kind === 'landing').map((n) => [n.ref, n.freezable]));
  eq(by, { A1: true, A2: false, A4: true, A3: true }, 'freezable');
});

check('amounts: base units written with decimals and read back, never through a double', () => {
  eq(fmt(123456789012n, 8), '1,234.56789012', 'fmt');
  eq(fmt('340282366920938463463374607431768211455', 18), '340,282,366,920,938,463,463.374607431768211455', 'u128 max');
  eq(fmt(100000000n, 8), '1', 'whole');
  eq(parseCoins('1.5', 8), 150000000n, 'parse');
  eq(parseCoins('0.000000019', 8), 1n, 'cut to the decimals');
  eq(parseCoins('abc', 8), null, 'not a number');
});

check('a case names its source address and every landing; a tx source is not an address', () => {
  const c = { id: 'c1', name: 'x', trace };
  eq(caseAddresses(c).map((a) => a.address), ['S', 'A1', 'A2', 'A4', 'A3'], 'addresses');
  const tx = { id: 'c2', name: 'y', trace: { ...trace, source: 'ab'.repeat(32) + ':0' } };
  eq(caseAddresses(tx).length, 4, 'tx source');
  const y = toTagPack(c, '2026-01-01');
  eq(y.split('\n').filter((l) => l.startsWith('  - address: ')).length, 5, 'tags');
  eq(/^currency: BTC$/m.test(y) && /^lastmod: 2026-01-01$/m.test(y), true, 'header');
});

console.log(`[==========] flow: ${pass + fail} test(s) run.`);
if (pass) console.log(`[  PASSED  ] ${pass} test(s).`);
if (fail) console.log(`[  FAILED  ] ${fail} test(s), listed above.`);
process.exit(fail ? 1 : 0);
