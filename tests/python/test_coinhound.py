"""The Python binding against the CLI on the same stores.

The oracle is independent of the binding: the `coinhound` command (the CLI's
--json output) and the generators' own record of what they planted
(theft.json). A store is built once per session from coinhound-gen's theft
and coinhound-evmgen's drain; the fixtures' real OFAC lists are used when
present (../shared/fixtures, or $COINHOUND_FIXTURES).
"""

import json
import os
import subprocess

import pytest

import coinhound

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.abspath(os.environ.get("COINHOUND_BUILD", os.path.join(ROOT, "build")))
CH = os.path.join(BUILD, "coinhound")
FIX = os.path.abspath(os.environ.get("COINHOUND_FIXTURES", os.path.join(ROOT, "..", "shared", "fixtures")))


def run(*args, ok=(0,)):
    p = subprocess.run(list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.returncode in ok, "%s: exit %d\n%s" % (" ".join(args), p.returncode, p.stderr)
    return p.stdout


def cli_json(*args, ok=(0,)):
    return json.loads(run(CH, *args, ok=ok))


@pytest.fixture(scope="session")
def btc(tmp_path_factory):
    """A generated chain with a planted theft, its store, an analyst's tag
    on the thief and the exchanges' labels in the attribution store."""
    d = tmp_path_factory.mktemp("btc")
    chain, db = str(d / "chain"), str(d / "db")
    run(os.path.join(BUILD, "coinhound-gen"), "--out", chain, "--txs", "30000", "--theft", "--seed", "11")
    run(CH, "ingest", "btc", chain, "--db", db)
    with open(os.path.join(chain, "theft.json")) as f:
        theft = json.load(f)
    tag = str(d / "thief.csv")
    with open(tag, "w") as f:
        f.write("address,category,entity\n%s,stolen_funds,Test theft (analyst tag)\n" % theft["thief_address"])
    run(CH, "intel", "import", "--format", "csv", os.path.join(chain, "labels.csv"), tag, "--db", db)
    return {"db": db, "chain": chain, "theft": theft, "labels": os.path.join(chain, "labels.csv")}


@pytest.fixture(scope="session")
def eth(tmp_path_factory):
    """A generated EVM chain with a drained hot wallet, in an account store."""
    d = tmp_path_factory.mktemp("eth")
    out, db = str(d / "evm"), str(d / "db")
    run(os.path.join(BUILD, "coinhound-evmgen"), "--out", out, "--transfers", "8000", "--theft", "--seed", "5")
    run(CH, "ingest", "eth", out, "--db", db, "--chain", "eth")
    with open(os.path.join(out, "theft.json")) as f:
        theft = json.load(f)
    return {"db": db, "out": out, "theft": theft, "labels": os.path.join(out, "labels.csv")}


def source(theft):
    return "%s:%d" % (theft["theft_txid"], theft["theft_vout"])


# ---- a Bitcoin store ---------------------------------------------------------


def test_status_counts_equal_the_cli(btc):
    cli = cli_json("status", "--db", btc["db"], "--json")
    with coinhound.Store(btc["db"]) as s:
        st = s.status()
    assert st["chain"] == "btc" and st["account"] is False
    for k in ("blocks", "txs", "inputs", "outputs", "addresses"):
        assert st[k] == cli[k], k
    assert st["txs"] > 30000


def test_tx_by_id_and_by_prefix_equals_the_cli(btc):
    txid = btc["theft"]["theft_txid"]
    cli = cli_json("tx", txid, "--db", btc["db"], "--json")
    with coinhound.Store(btc["db"]) as s:
        assert s.tx(txid) == cli
        assert s.tx(txid[:10]) == cli
        assert s.tx("00" * 32) is None
        with pytest.raises(coinhound.Error):
            s.tx("not a txid")


def test_block_equals_the_cli(btc):
    h = btc["theft"]["height"]
    cli = cli_json("block", str(h), "--db", btc["db"], "--json")
    with coinhound.Store(btc["db"]) as s:
        b = s.block(h)
        assert b == cli
        assert s.block(b["hash"]) == cli
        assert s.block(10 ** 9) is None


def test_address_summary_and_first_page_equal_the_cli(btc):
    a = btc["theft"]["thief_address"]
    cli = cli_json("address", a, "--db", btc["db"], "--json", "--limit", "5")
    with coinhound.Store(btc["db"]) as s:
        assert s.address(a, history=5) == cli
        summary = s.address(a)  # no history asked for
        for k in ("address", "received", "sent", "balance", "tx_count", "first_seen", "last_seen"):
            assert summary[k] == cli[k], k
        assert not summary.get("txs")
        with pytest.raises(coinhound.Error):
            s.address("bc1qnotanaddress")


def test_history_pages_join_to_the_whole_history(btc):
    # the busiest address of the labels: an exchange with many deposits
    with open(btc["labels"]) as f:
        addrs = [line.split(",")[0] for line in f.read().splitlines()[1:]]
    with coinhound.Store(btc["db"]) as s:
        busiest = max(addrs, key=lambda a: (s.address(a) or {"tx_count": 0})["tx_count"])
        whole = s.history(busiest, limit=0)
        assert whole["next_cursor"] in (None, "")
        assert len(whole["entries"]) >= 3
        paged = list(s.history_all(busiest, page=2))
        assert paged == whole["entries"]
        first = s.history(busiest, limit=2)
        assert first["entries"] == whole["entries"][:2] and first["next_cursor"]
        with pytest.raises(coinhound.Error):
            s.history(busiest, cursor="garbage")


def test_trace_equals_the_cli_and_finds_the_planted_landings(btc):
    src = source(btc["theft"])
    planted = {x["address"] for x in btc["theft"]["landings"]}
    for policy in ("haircut", "poison", "fifo"):
        cli = cli_json("trace", "--db", btc["db"], "--from", src, "--policy", policy,
                       "--labels", btc["labels"], "--json")
        with coinhound.Store(btc["db"]) as s:
            r = s.trace(src, policy=policy, labels=[btc["labels"]], intel=False)
        assert r == cli, policy
        assert int(r["tainted_total"]) == btc["theft"]["amount"]
        if policy != "fifo":  # FIFO may pay a planted deposit with clean coins first
            assert planted <= {x["address"] for x in r["landings"]}, policy


def test_trace_formats_limits_and_errors(btc):
    src = source(btc["theft"])
    with coinhound.Store(btc["db"]) as s:
        text = s.trace(src, labels=[btc["labels"]], fmt="text")
        edges = s.trace(src, labels=[btc["labels"]], fmt="edges")
        cli_edges = run(CH, "trace", "--db", btc["db"], "--from", src, "--labels", btc["labels"],
                        "--edges")
        assert isinstance(text, str) and text.strip()
        assert edges == cli_edges
        one = s.trace(src, max_hops=1, intel=False)
        assert int(one["cut_max_hops"]) > 0
        big = s.trace(src, min_amount=btc["theft"]["amount"] + 1, intel=False)
        assert not big["landings"] and int(big["held_total"]) == 0
        assert int(big["below_min"]) + int(big["fees"]) == int(big["tainted_total"])
        with pytest.raises(coinhound.Error):  # above 2^128 - 1
            s.trace(src, min_amount="340282366920938463463374607431768211456")
        with pytest.raises(coinhound.Error):
            s.trace(src, min_amount="12abc")
        with pytest.raises(coinhound.Error):
            s.trace(src, policy="sideways")
        with pytest.raises(coinhound.NotFound):
            s.trace("00" * 32 + ":0")


def test_screening_equals_the_cli_field_for_field(btc):
    thief = btc["theft"]["thief_address"]
    deposit = btc["theft"]["landings"][0]["address"]
    with coinhound.Screener(db=btc["db"]) as sc:
        for a in (thief, deposit):
            cli = cli_json("screen", a, "--db", btc["db"], "--json", ok=(0, 1))
            assert sc.screen(a) == cli, a
        v = sc.screen(thief, external_id="row-17")
        assert v["external_id"] == "row-17"
        assert v["risk"] not in ("none", "low")
        assert any(r.get("category") == "stolen_funds" for r in v["reasons"])
        broken = "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3"  # a real address with one letter changed
        bad = sc.screen(broken)
        assert bad["risk"] == "invalid" and bad["error"] == "bad checksum"
        assert bad == cli_json("screen", broken, "--db", btc["db"], "--json", ok=(2,))


def test_attributions_with_their_source(btc):
    thief = btc["theft"]["thief_address"]
    with coinhound.Intel(btc["db"]) as i:
        found = i.attributions(thief)
        assert [a["category"] for a in found] == ["stolen_funds"]
        assert found[0]["entity"] == "Test theft (analyst tag)"
        assert found[0]["delisted"] is False
        assert i.attributions("bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080") == []
        assert i.counts()["attributions"] >= 2
        with pytest.raises(coinhound.Error):
            i.canonical("0x70997970c51812DC3A010C7D01B50E0D17DC79C8")  # mixed case, bad EIP-55


def test_errors_are_exceptions_not_crashes(tmp_path):
    with pytest.raises(coinhound.Error):
        coinhound.Store(str(tmp_path / "nothing"))
    with pytest.raises(coinhound.Error):
        coinhound.Intel(str(tmp_path / "nothing"))
    with pytest.raises(coinhound.Error):
        coinhound.Screener()


# ---- an account chain ----------------------------------------------------------


def test_account_trace_and_address_equal_the_cli(eth):
    exploiter = eth["theft"]["theft"]["exploiter"]
    cli = cli_json("trace", "--db", eth["db"], "--chain", "eth", "--from", exploiter,
                   "--labels", eth["labels"], "--json")
    with coinhound.Store(eth["db"], chain="eth") as s:
        assert s.account is True
        r = s.trace(exploiter, labels=[eth["labels"]], intel=False)
        assert r == cli
        assert r["landings"], "the drain reaches the generator's exchanges and bridges"
        a = s.address(exploiter, max_peers=100)
        assert a == cli_json("address", exploiter, "--db", eth["db"], "--chain", "eth", "--json")


# ---- real data -------------------------------------------------------------------


def test_real_ofac_list_names_the_ronin_exploiter(tmp_path):
    lists = os.path.join(FIX, "intel", "ofac-lists")
    if not os.path.isdir(lists):
        pytest.skip("no fixtures at %s (set COINHOUND_FIXTURES)" % FIX)
    db = str(tmp_path / "db")
    run(CH, "intel", "import", lists, "--db", db)
    ronin = "0x098b716b8aaf21512996dc57eb0615e2383e2f96"
    with coinhound.Intel(db) as i:
        found = i.attributions(ronin)
        assert any(a["category"] == "sanctions" and a["source_name"].startswith("OFAC") for a in found)
    setfile = str(tmp_path / "ofac.chset")
    run(CH, "intel", "export-set", "--out", setfile, "--db", db)
    with coinhound.Screener(set=setfile) as sc:
        v = sc.screen(ronin.upper().replace("0X", "0x"))
        assert v["risk"] == "severe"
        assert v == cli_json("screen", ronin.upper().replace("0X", "0x"), "--set", setfile, "--json", ok=(1,))
