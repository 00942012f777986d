// Cases: a trace saved with its question (the spec), its answer (the
// trace JSON as it was), notes and tags. Kept in this browser's storage
// (localStorage), one key per case; a case's link (#/case/ID) reopens it
// here, and its JSON export carries it to another browser.

const PREFIX = 'coinhound.case.';

export function listCases() {
  const out = [];
  for (let i = 0; i < localStorage.length; i++) {
    const k = localStorage.key(i);
    if (!k.startsWith(PREFIX)) continue;
    try {
      out.push(JSON.parse(localStorage.getItem(k)));
    } catch {
      /* a damaged entry is skipped, not fatal */
    }
  }
  return out.sort((a, b) => (b.updated || '').localeCompare(a.updated || ''));
}

export function getCase(id) {
  const s = localStorage.getItem(PREFIX + id);
  return s ? JSON.parse(s) : null;
}

export function saveCase(c) {
  const now = new Date().toISOString();
  const out = { ...c, id: c.id || 'c' + Date.now().toString(36) + Math.random().toString(36).slice(2, 6), updated: now };
  out.created = out.created || now;
  localStorage.setItem(PREFIX + out.id, JSON.stringify(out));
  return out;
}

export function deleteCase(id) {
  localStorage.removeItem(PREFIX + id);
}

// A case file from another browser (its JSON export): checked for the
// fields a case needs, saved under its own id.
export function importCase(text) {
  const c = JSON.parse(text);
  if (!c || typeof c !== 'object' || !c.spec || !c.spec.source || !c.trace || !c.name) throw new Error('not a coinhound case (needs name, spec, trace)');
  return saveCase(c);
}
