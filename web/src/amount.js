// Amounts are decimal strings of whole base units (docs/trace.md): summed as
// BigInt, never through a double, and written with the asset's decimals.

export function big(s) {
  try {
    return BigInt(s ?? 0);
  } catch {
    return 0n;
  }
}

// "6304206238", 8 -> "63.04206238"; decimals null/undefined: the base units.
export function fmt(units, decimals) {
  const v = typeof units === 'bigint' ? units : big(units);
  if (decimals == null) return v.toString();
  const neg = v < 0n;
  const s = (neg ? -v : v).toString().padStart(decimals + 1, '0');
  const whole = s.slice(0, s.length - decimals);
  const frac = s.slice(s.length - decimals).replace(/0+$/, '');
  return (neg ? '-' : '') + whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',') + (frac ? '.' + frac : '');
}

// A user's "1.5" in an asset of `decimals` -> base units (BigInt); null if not a number.
export function parseCoins(text, decimals) {
  const t = String(text ?? '').trim();
  if (!t) return 0n;
  const m = /^(\d*)(?:\.(\d*))?$/.exec(t);
  if (!m || (!m[1] && !m[2])) return null;
  const d = decimals ?? 0;
  const frac = (m[2] || '').slice(0, d).padEnd(d, '0');
  return BigInt((m[1] || '0') + frac);
}

export function when(unix) {
  if (unix == null) return '';
  return new Date(unix * 1000).toISOString().replace('T', ' ').replace(/\.000Z$/, ' UTC');
}

export function short(id, n = 10) {
  const s = String(id ?? '');
  return s.length > 2 * n + 1 ? s.slice(0, n) + '…' + s.slice(-6) : s;
}
