"""coinhound for analysts: the C library's stores, screening, traces and
queries from Python, answering in plain dicts and lists.

Every call goes through libcoinhound.so (the same functions the CLI and the
HTTP service call) and every answer is the library's own JSON, parsed: a dict
from here has the fields `coinhound ... --json` prints, documented in
docs/query.md, docs/trace.md and docs/screening.md. Amounts are decimal
strings of base units there, so Python gets them exactly (int(s) when a sum
is wanted).

    import coinhound
    with coinhound.Store("demo/db") as s:
        s.status()                       # counts
        s.tx("9f3c...")                  # a tx, or a unique prefix of its id
        s.address("bcrt1q...")           # summary and first history page
        s.trace("TXID:0", policy="haircut", labels=["labels.csv"])
    with coinhound.Screener(db="demo/db") as sc:
        sc.screen("12ZEw5Hcv1hTb6YUQJ69y1V7uhcoDz92PH")
    with coinhound.Intel("demo/db") as i:
        i.attributions("0x098b716b8aaf21512996dc57eb0615e2383e2f96")

Errors are coinhound.Error (the library's message); an id, block or address
the store does not hold is None, except a trace source, which is
coinhound.NotFound. The module is built by `make python` (python/README.md).
"""

import json
import os

try:
    from _coinhound_native import ffi, lib
except ImportError as e:  # pragma: no cover - a message for people
    raise ImportError(
        "coinhound's native module is not built: run `make python` and put "
        "build/python on PYTHONPATH (python/README.md)"
    ) from e

__all__ = ["Error", "NotFound", "Store", "Screener", "Intel"]


class Error(Exception):
    """A failure the library reported; the message is its own."""


class NotFound(Error, LookupError):
    """What was asked for is not in the store."""


def _b(s):
    return s.encode("utf-8") if isinstance(s, str) else s


def _msg(err):
    return ffi.string(err.msg).decode("utf-8", "replace")


def _capture(write):
    """Run write(FILE *) into memory and return the bytes it wrote."""
    buf = ffi.new("char **")
    size = ffi.new("size_t *")
    f = lib.open_memstream(buf, size)
    if f == ffi.NULL:
        raise MemoryError("open_memstream")
    try:
        write(f)
    finally:
        lib.fclose(f)  # flushes: buf and size are final only now
        data = ffi.buffer(buf[0], size[0])[:] if buf[0] != ffi.NULL else b""
        lib.free(buf[0])
    return data


def _json(write):
    return json.loads(_capture(write).decode("utf-8"))


def _default_chain(db):
    """The chain to open under db when none is named: btc when it is there,
    else the one chain store the folder holds."""
    if os.path.isdir(os.path.join(db, "btc")):
        return "btc"
    found = [
        d
        for d in sorted(os.listdir(db)) if os.path.isdir(os.path.join(db, d))
        and d not in ("intel", "clusters") and os.path.exists(os.path.join(db, d, "data.mdb"))
    ] if os.path.isdir(db) else []
    if len(found) == 1:
        return found[0]
    if not found:
        raise Error("%s: no chain store here (ingest one first)" % db)
    raise Error("%s holds several chain stores (%s): name one with chain=" % (db, ", ".join(found)))


class _Handle:
    """What every handle class shares: a with block closes it, and so does
    the collector (an Error from close() is not raised from a finaliser)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Error:
            pass


class Store(_Handle):
    """A chain store opened for reading: one committed state from open to
    close (refresh() moves to the newest), whatever a writer does meanwhile."""

    def __init__(self, db, chain=None):
        self._s = None
        self.db = db
        self.chain = chain or _default_chain(db)
        err = ffi.new("ch_error *")
        out = ffi.new("ch_store **")
        if lib.ch_store_open(_b(db), _b(self.chain), lib.CH_STORE_READ, out, err) != 0:
            raise Error(_msg(err))
        self._s = out[0]

    def close(self):
        if self._s is not None:
            lib.ch_store_close(self._s)
            self._s = None

    def _store(self):
        if self._s is None:
            raise Error("the store is closed")
        return self._s

    def refresh(self):
        """Move to the latest committed state; True when it changed."""
        err = ffi.new("ch_error *")
        rc = lib.ch_store_refresh(self._store(), err)
        if rc < 0:
            raise Error(_msg(err))
        return rc == 1

    @property
    def account(self):
        """True for an account chain's store (EVM), False for UTXO."""
        return bool(lib.ch_store_is_account(self._store()))

    def status(self):
        """Counts of what the store holds, and its bytes on disk."""
        c = ffi.new("ch_store_counts *")
        lib.ch_store_get_counts(self._store(), c)
        return {
            "chain": self.chain,
            "account": self.account,
            "blocks": c.blocks,
            "txs": c.txs,
            "inputs": c.inputs,
            "outputs": c.outputs,
            "addresses": c.addresses,
            "transfers": c.transfers,
            "disk_bytes": lib.ch_store_disk_bytes(self._store()),
        }

    def tx(self, txid):
        """A tx by its id or a unique prefix of it (4+ hex digits), as
        `coinhound tx --json` writes it; None when no tx has that id."""
        s = self._store()
        err = ffi.new("ch_error *")
        n = ffi.new("uint64_t *")
        cand = ffi.new("size_t *")
        rc = lib.ch_query_find_tx(s, _b(txid), n, cand, err)
        if rc < 0:
            raise Error(_msg(err))
        if rc == 0:
            return None
        return _json(lambda f: lib.ch_q_tx_json(f, s, n[0], ffi.NULL))

    def block(self, which, txs=False):
        """A block by height (block number on an account chain) or hash, as
        `coinhound block --json` writes it, with its txs listed when txs is
        True; None when absent."""
        s = self._store()
        err = ffi.new("ch_error *")
        b = ffi.new("ch_q_block *")
        rc = lib.ch_query_block(s, _b(str(which)), b, err)
        if rc < 0:
            raise Error(_msg(err))
        if rc == 0:
            return None
        return _json(lambda f: lib.ch_q_block_json(f, s, b, bool(txs), ffi.NULL))

    def _address(self, address):
        err = ffi.new("ch_error *")
        a = ffi.new("ch_q_address *")
        rc = lib.ch_query_address(self._store(), _b(address), a, err)
        if rc < 0:
            raise Error(_msg(err))
        if rc == 0:
            lib.ch_q_address_free(a)
            return None
        return a

    def _page(self, a, cursor, limit):
        err = ffi.new("ch_error *")
        p = ffi.new("ch_q_page *")
        if lib.ch_query_history(self._store(), a, _b(cursor) if cursor else ffi.NULL,
                                int(limit), p, err) != 0:
            raise Error(_msg(err))
        return p

    def address(self, address, history=0, max_peers=10):
        """An address's summary (balances per asset, received, sent, first
        and last seen, counterparties) as `coinhound address --json` writes
        it, with its first `history` entries; None when the store never saw
        it. An invalid address is an Error."""
        a = self._address(address)
        if a is None:
            return None
        s = self._store()
        try:
            if history:
                p = self._page(a, None, history)
                try:
                    return _json(lambda f: lib.ch_q_address_json(f, s, a, p, max_peers, ffi.NULL))
                finally:
                    lib.ch_q_page_free(p)
            return _json(lambda f: lib.ch_q_address_json(f, s, a, ffi.NULL, max_peers, ffi.NULL))
        finally:
            lib.ch_q_address_free(a)

    def history(self, address, cursor=None, limit=100):
        """One page of an address's history: {"address", "entries",
        "next_cursor"}; pass next_cursor back for the next page (it survives
        ingests). None when the store never saw the address."""
        a = self._address(address)
        if a is None:
            return None
        s = self._store()
        try:
            p = self._page(a, cursor, limit)
            try:
                return _json(lambda f: lib.ch_q_page_json(f, s, a, p, ffi.NULL))
            finally:
                lib.ch_q_page_free(p)
        finally:
            lib.ch_q_address_free(a)

    def history_all(self, address, page=1000):
        """Every history entry of an address, page by page (a generator)."""
        cursor = None
        while True:
            p = self.history(address, cursor, page)
            if p is None:
                return
            yield from p["entries"]
            cursor = p.get("next_cursor")
            if not cursor:
                return

    def trace(self, source, policy="haircut", direction="forward", max_hops=0,
              first_block=0, last_block=0, since=0, until=0, min_amount=0,
              stop_at=None, labels=(), intel=True, fmt="json"):
        """Follow funds from source (TXID, TXID:VOUT or an address; an 0x
        address or tx hash on an account chain), as `coinhound trace` does
        with the same options: the trace JSON of docs/trace.md as a dict
        (fmt="json"), or the text, CSV, edge-list CSV or DOT as a str.
        Landings need labels: the attribution store of the db (intel=True)
        and/or label CSV files (labels). min_amount is in base units (an
        int or a decimal string). since/until are unix seconds."""
        formats = {"json": lib.CH_TRACE_JSON, "text": lib.CH_TRACE_TEXT,
                   "csv": lib.CH_TRACE_CSV, "edges": lib.CH_TRACE_EDGES,
                   "dot": lib.CH_TRACE_DOT}
        if fmt not in formats:
            raise Error("format %r: one of %s" % (fmt, ", ".join(formats)))
        s = self._store()
        err = ffi.new("ch_error *")
        spec = ffi.new("ch_trace_spec *")
        lib.ch_trace_spec_init(spec)
        keep = []  # C strings the spec points at, alive until the trace is written

        def cstr(v):
            c = ffi.new("char[]", _b(v))
            keep.append(c)
            return c

        spec.source = cstr(source)
        if lib.ch_trace_policy_parse(_b(policy), ffi.addressof(spec, "policy")) != 0:
            raise Error("policy %r: poison, haircut, fifo or lifo" % policy)
        if lib.ch_trace_direction_parse(_b(direction), ffi.addressof(spec, "direction")) != 0:
            raise Error("direction %r: forward or backward" % direction)
        for name, v in (("max_hops", max_hops), ("since", since), ("until", until)):
            if not isinstance(v, int) or v < 0 or v > 0xFFFFFFFF:
                raise Error("%s: a whole number from 0 to 4294967295, not %r" % (name, v))
            setattr(spec, name, v)
        for name, v in (("first_block", first_block), ("last_block", last_block)):
            if not isinstance(v, int) or v < 0 or v >= 1 << 64:
                raise Error("%s: a whole number, not %r" % (name, v))
            setattr(spec, name, v)
        if isinstance(min_amount, int) and min_amount < 0:
            raise Error("min_amount: not negative")
        if lib.ch_trace_spec_set_min_amount(spec, _b(str(min_amount)), err) != 0:
            raise Error(_msg(err))
        if stop_at is not None:
            spec.stop_at = cstr(stop_at)
        spec.chain = cstr(self.chain)

        csv = [cstr(p) for p in labels]
        csv_arr = ffi.new("const char *[]", csv) if csv else ffi.NULL
        lab = ffi.new("ch_labels **")
        warn = ffi.new("ch_error *")
        if lib.ch_labels_open(s, _b(self.db) if intel else ffi.NULL, spec.stop_at, csv_arr,
                              len(csv), lab, warn, err) != 0:
            raise Error(_msg(err))
        spec.labels = lab[0]
        res = ffi.new("ch_trace_result **")
        try:
            rc = lib.ch_trace_exec(s, spec, res, err)
            if rc < 0:
                raise Error(_msg(err))
            if rc == 0:
                raise NotFound(_msg(err))
            try:
                out = _capture(lambda f: lib.ch_trace_write(res[0], formats[fmt], f))
            finally:
                lib.ch_trace_result_free(res[0])
        finally:
            lib.ch_labels_free(lab[0])
        text = out.decode("utf-8")
        return json.loads(text) if fmt == "json" else text


class Screener(_Handle):
    """Risk verdicts with their evidence: from an attribution store with its
    chain store (db; labels through clusters and indirect exposure), or from
    an offline screening set (set)."""

    def __init__(self, db=None, set=None, chain=None, max_hops=3):
        self._sc = None
        if (db is None) == (set is None):
            raise Error("Screener: give db or set, one of them")
        o = ffi.new("ch_screener_opts *")
        lib.ch_screener_opts_init(o)
        self._keep = []
        if set is not None:
            self._keep.append(ffi.new("char[]", _b(set)))
            o.set_path = self._keep[-1]
        else:
            self._keep.append(ffi.new("char[]", _b(db)))
            o.db = self._keep[-1]
        if chain is not None:
            self._keep.append(ffi.new("char[]", _b(chain)))
            o.chain = self._keep[-1]
        o.max_hops = max_hops
        err = ffi.new("ch_error *")
        warn = ffi.new("ch_error *")
        out = ffi.new("ch_screener **")
        if lib.ch_screener_open(o, out, warn, err) != 0:
            raise Error(_msg(err))
        self.warning = _msg(warn) or None  # a part left out (a missing chain store, ...)
        self._sc = out[0]
        self._v = lib.ch_verdict_new()
        if self._v == ffi.NULL:
            lib.ch_screener_close(self._sc, ffi.NULL)
            raise MemoryError("ch_verdict_new")

    def close(self):
        """Close; an Error when the chain store found damage while it was
        read (an answer given from it is not to be trusted)."""
        if self._sc is None:
            return
        lib.ch_verdict_free(self._v)
        err = ffi.new("ch_error *")
        rc = lib.ch_screener_close(self._sc, err)
        self._sc = None
        if rc != 0:
            raise Error(_msg(err))

    def refresh(self):
        """Read the chain store's newest commits; True when there were any."""
        err = ffi.new("ch_error *")
        rc = lib.ch_screener_refresh(self._sc, err)
        if rc < 0:
            raise Error(_msg(err))
        return rc == 1

    def screen(self, address, external_id=None):
        """One verdict as `screen --json` writes it: risk, score, every
        reason with its source, exposure. An invalid address is a verdict
        that says so (never clean); a failed lookup is an Error."""
        if self._sc is None:
            raise Error("the screener is closed")
        a = ffi.new("char[]", _b(address))
        kind = lib.ch_screener_screen(self._sc, a, self._v)
        ext = ffi.new("char[]", _b(external_id)) if external_id is not None else ffi.NULL
        w = ffi.new("ch_jw *")

        def write(f):
            lib.ch_jw_init(w, f)
            lib.ch_verdict_write_json(self._v, w, ext)

        verdict = _json(write)
        if kind == lib.CH_VERDICT_ERROR:
            raise Error("%s: %s" % (address, verdict.get("error", "the lookup failed")))
        return verdict

    def screen_many(self, addresses):
        """screen() for each address, in order."""
        return [self.screen(a) for a in addresses]


@ffi.def_extern()
def _py_attribution(a, ctx):
    ffi.from_handle(ctx).append(_attribution(a))
    return 0


@ffi.def_extern()
def _py_actor(a, ctx):
    ffi.from_handle(ctx).append(
        {k: ffi.string(getattr(a, k)).decode("utf-8", "replace")
         for k in ("name", "country", "attack_id", "source", "description")})
    return 0


_ATTR_TEXT = ("address", "asset", "entity", "actor", "actor_country", "category",
              "source_name", "source_url", "source_date", "first_listed", "last_listed",
              "delisted_date", "note", "source_id")


def _attribution(a):
    d = {k: ffi.string(getattr(a, k)).decode("utf-8", "replace") for k in _ATTR_TEXT}
    d["confidence"] = a.confidence
    d["delisted"] = bool(a.delisted)
    d["case_folded"] = bool(a.case_folded)
    return d


class Intel(_Handle):
    """The attribution store of a db (DIR/intel), read only: who is behind
    an address, by which source, since when, delistings kept as history."""

    def __init__(self, db):
        self._db = None
        err = ffi.new("ch_error *")
        out = ffi.new("ch_intel **")
        if lib.ch_intel_open(_b(db), False, out, err) != 0:
            raise Error(_msg(err))
        self._db = out[0]

    def close(self):
        if self._db is not None:
            lib.ch_intel_close(self._db)
            self._db = None

    @staticmethod
    def canonical(address, asset=None):
        """The address as the store keys it (checksums checked; EVM lower
        case); an Error says why it is not an address."""
        err = ffi.new("ch_error *")
        out = ffi.new("char[128]")
        if lib.ch_intel_canonical(_b(address), _b(asset) if asset else ffi.NULL, out, err) != 0:
            raise Error(_msg(err))
        return ffi.string(out).decode()

    def attributions(self, address, asset=None):
        """Every attribution of the address, delisted ones included (see
        each one's "delisted"), as dicts of the fields of ch_attribution."""
        found = []
        err = ffi.new("ch_error *")
        h = ffi.new_handle(found)
        if lib.ch_intel_lookup(self._db, _b(self.canonical(address, asset)),
                               lib._py_attribution, h, err) < 0:
            raise Error(_msg(err))
        return found

    def actors(self):
        """Every actor the store knows, in name order."""
        found = []
        err = ffi.new("ch_error *")
        h = ffi.new_handle(found)
        if lib.ch_intel_actors_foreach(self._db, lib._py_actor, h, err) < 0:
            raise Error(_msg(err))
        return found

    def actor(self, name):
        """The actor a name or alias resolves to ("HIDDEN COBRA" -> Lazarus
        Group), or None."""
        err = ffi.new("ch_error *")
        a = ffi.new("ch_actor *")
        rc = lib.ch_intel_actor_resolve(self._db, _b(name), a, err)
        if rc < 0:
            raise Error(_msg(err))
        if rc == 0:
            return None
        return {k: ffi.string(getattr(a, k)).decode("utf-8", "replace")
                for k in ("name", "country", "attack_id", "source", "description")}

    def counts(self):
        """How many attributions, addresses, delistings, actors, aliases and
        techniques the store holds."""
        c = ffi.new("ch_intel_counts *")
        err = ffi.new("ch_error *")
        if lib.ch_intel_counts_get(self._db, c, err) != 0:
            raise Error(_msg(err))
        return {k: getattr(c, k) for k in
                ("attributions", "addresses", "delisted", "actors", "aliases", "techniques")}
