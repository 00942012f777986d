// What a case exports besides the report: the addresses it names, as a
// GraphSense TagPack (YAML) and as a STIX 2.1 bundle, in the forms
// coinhound's own importers read (src/intel/import_tagpack.c,
// import_stix.c; the bundle's indicators are shaped as src/intel/export.c
// writes them: OpenCTI's Cryptocurrency-Wallet pattern), so a colleague
// imports a case with `coinhound intel import`.

// The addresses a case names: the source (when an address) and every
// landing, each with what the trace says of it.
export function caseAddresses(c) {
  const out = new Map();
  const t = c.trace || {};
  const src = String(t.source || '');
  const isTx = /^(0x)?[0-9a-fA-F]{64}(:\d+)?$/.test(src);
  if (src && !isTx)
    out.set(src, { address: src, label: `${c.name}: source of the traced funds`, category: c.sourceCategory || 'stolen_funds' });
  for (const l of t.landings || [])
    if (!out.has(l.address))
      out.set(l.address, {
        address: l.address,
        label: l.entity || `${c.name}: landing`,
        category: l.category || 'unknown',
        asset: l.asset,
      });
  return [...out.values()];
}

function yamlStr(s) {
  return JSON.stringify(String(s ?? '')); // a JSON string is a valid YAML double-quoted scalar
}

const CURRENCY = { btc: 'BTC', eth: 'ETH', bsc: 'BNB', polygon: 'MATIC', arbitrum: 'ETH', optimism: 'ETH', base: 'ETH' };

export function toTagPack(c, today = new Date().toISOString().slice(0, 10)) {
  const chain = (c.trace && c.trace.chain) || 'btc';
  const lines = [
    `title: ${yamlStr('coinhound case: ' + c.name)}`,
    `creator: ${yamlStr(c.creator || 'coinhound web UI')}`,
    `source: ${yamlStr(c.link || 'coinhound case ' + c.id)}`,
    `currency: ${CURRENCY[chain] || chain.toUpperCase()}`,
    `lastmod: ${today}`,
    `confidence: ${c.confidence || 'forensic_investigation'}`,
  ];
  if (c.notes) lines.push(`description: ${yamlStr(c.notes)}`);
  lines.push('tags:');
  for (const a of caseAddresses(c)) {
    lines.push(`  - address: ${yamlStr(a.address)}`);
    lines.push(`    label: ${yamlStr(a.label)}`);
    lines.push(`    category: ${yamlStr(a.category)}`);
  }
  return lines.join('\n') + '\n';
}

// A name-based UUID (v5-shaped) from SHA-256 of the text: the same case
// gives the same ids.
async function uuidOf(text) {
  const h = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = [...h.slice(0, 16)].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

const BENIGN = new Set(['exchange', 'bridge', 'dex', 'service', 'mining', 'payment_processor']);

export async function toStix(c, now = new Date().toISOString()) {
  const objects = [];
  const ts = now.replace(/\.\d+Z$/, '.000Z');
  for (const a of caseAddresses(c)) {
    const pattern = `[cryptocurrency-wallet:value = '${a.address.replace(/([\\'])/g, '\\$1')}']`;
    objects.push({
      type: 'indicator',
      spec_version: '2.1',
      id: 'indicator--' + (await uuidOf(`${c.id}|${a.address}`)),
      created: ts,
      modified: ts,
      name: a.label,
      description: `${a.category} in coinhound case "${c.name}"`,
      pattern,
      pattern_type: 'stix',
      valid_from: ts,
      indicator_types: [BENIGN.has(a.category) ? 'benign' : a.category === 'mixer' ? 'anonymization' : 'malicious-activity'],
      labels: [a.category, ...(c.tags || [])],
      x_opencti_main_observable_type: 'Cryptocurrency-Wallet',
      external_references: [{ source_name: 'coinhound case ' + c.name }],
    });
  }
  return { type: 'bundle', id: 'bundle--' + (await uuidOf('case|' + c.id + '|' + now)), objects };
}
