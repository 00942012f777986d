#include "handchain.h"

#include <stdlib.h>
#include <string.h>

ch_hash256 mkhash(uint8_t tag, uint32_t n) {
    ch_hash256 h;
    memset(&h, 0, sizeof h);
    h.b[0] = tag;
    memcpy(h.b + 1, &n, 4);
    h.b[31] = 0x5a;
    return h;
}

/* Address number n of a kind with 20 bytes (P2PKH, P2SH, v0 witness). */
ch_addr mkaddr_kind(ch_addr_kind kind, uint32_t n) {
    ch_addr a;
    memset(&a, 0, sizeof a);
    a.kind = (uint8_t)kind;
    a.len = 20;
    memcpy(a.bytes, &n, 4);
    a.bytes[19] = 0x77;
    return a;
}

/* Address number n as a P2PKH address. */
ch_addr mkaddr(uint32_t n) {
    return mkaddr_kind(CH_ADDR_P2PKH, n);
}

const char *addr_str(uint32_t n, char buf[CH_ADDR_STR_MAX]) {
    ch_addr a = mkaddr(n);
    assert_int_equal(ch_addr_to_string(&a, CH_NET_MAINNET, buf), 0);
    return buf;
}

void hand_open(hand *h) {
    memset(h, 0, sizeof *h);
    h->dir = tu_tmpdir();
    assert_int_equal(ch_store_open(h->dir, "btc", CH_STORE_WRITE, &h->s, &h->err), 0);
}

void hand_block(hand *h, uint32_t time) {
    ch_block_meta m = {.hash = mkhash(0xb0, h->n_blocks++), .time = time};
    assert_int_equal(ch_store_begin_block(h->s, &m, &h->err), 0);
}

void hand_end_block(hand *h) {
    assert_int_equal(ch_store_end_block(h->s, &h->err), 0);
}

/* A coinbase paying the given outputs; returns its txid. */
ch_hash256 hand_coinbase(hand *h, const hout *o, size_t n) {
    ch_hash256 id = mkhash(0x70, h->n_txs++);
    assert_int_equal(ch_store_add_tx(h->s, &id, 100, &h->err), 0);
    assert_int_equal(ch_store_add_coinbase_input(h->s, &h->err), 0);
    for (size_t i = 0; i < n; i++) {
        ch_addr a = mkaddr(o[i].addr);
        assert_int_equal(
            ch_store_add_output(h->s, o[i].value, CH_SCRIPT_P2PKH, o[i].addr ? &a : NULL, &h->err),
            0);
    }
    return id;
}

ch_hash256 hand_tx(hand *h, const hin *in, size_t ni, const hout *o, size_t no) {
    ch_hash256 id = mkhash(0x70, h->n_txs++);
    assert_int_equal(ch_store_add_tx(h->s, &id, 200, &h->err), 0);
    for (size_t i = 0; i < ni; i++)
        assert_int_equal(ch_store_add_input(h->s, &in[i].txid, in[i].vout, &h->err), 0);
    for (size_t i = 0; i < no; i++) {
        ch_addr a = mkaddr(o[i].addr);
        assert_int_equal(
            ch_store_add_output(h->s, o[i].value, CH_SCRIPT_P2PKH, o[i].addr ? &a : NULL, &h->err),
            0);
    }
    return id;
}

/* Commit, and reopen read-only as the command does. */
void hand_finish(hand *h) {
    assert_int_equal(ch_store_commit(h->s, &h->err), 0);
    ch_store_close(h->s);
    assert_int_equal(ch_store_open(h->dir, "btc", CH_STORE_READ, &h->s, &h->err), 0);
}

void hand_close(hand *h) {
    ch_store_close(h->s);
    tu_rmrf(h->dir);
    free(h->dir);
}
