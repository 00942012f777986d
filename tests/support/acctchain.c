#include "acctchain.h"

#include <stdlib.h>
#include <string.h>

#include "coinhound/hash.h"

ch_addr ac_addr_bytes(const uint8_t b[20]) {
    ch_addr a;
    memset(&a, 0, sizeof a);
    a.kind = CH_ADDR_EVM;
    a.len = 20;
    memcpy(a.bytes, b, 20);
    return a;
}

ch_addr ac_addr(const char *hex40) {
    uint8_t b[20];
    assert_int_equal(strlen(hex40), 40);
    assert_int_equal(ch_hex_decode(hex40, 40, b, 20), 0);
    return ac_addr_bytes(b);
}

ch_hash256 ac_txid(uint32_t n) {
    ch_hash256 h;
    memset(&h, 0x3c, sizeof h);
    memcpy(h.b, &n, 4);
    return h;
}

void ac_open(achain *c) {
    memset(c, 0, sizeof *c);
    c->dir = tu_tmpdir();
    assert_int_equal(ch_store_open(c->dir, "eth", CH_STORE_WRITE, &c->s, &c->err), 0);
}

void ac_block(achain *c) {
    ch_block_meta m;
    memset(&m, 0, sizeof m);
    memset(m.hash.b, 0xb1, 32);
    memcpy(m.hash.b, &c->n_blocks, 4);
    m.time = 1700000000u + 12u * c->n_blocks++;
    assert_int_equal(ch_store_begin_block(c->s, &m, &c->err), 0);
}

void ac_end_block(achain *c) {
    assert_int_equal(ch_store_end_block(c->s, &c->err), 0);
}

void ac_tx(achain *c, const ch_addr *from, const ch_addr *to, int status) {
    ch_hash256 id = ac_txid(c->n_txs++);
    c->pos = 0;
    assert_int_equal(ch_store_add_account_tx(c->s, &id, from, to, NULL, status, 2, &c->err), 0);
}

uint64_t ac_xfer(achain *c, ch_xfer_kind kind, const ch_addr *asset, const ch_addr *from,
                 const ch_addr *to, uint64_t value, uint8_t flags) {
    uint64_t x = ch_store_xfer_count(c->s);
    uint32_t pos = kind == CH_XFER_TOKEN ? 0x10000u + c->pos++ : c->pos++;
    assert_int_equal(
        ch_store_add_transfer(c->s, kind, pos, asset, from, to, value, 0, flags, &c->err), 0);
    return x;
}

uint64_t ac_pay(achain *c, const ch_addr *from, const ch_addr *to, uint64_t value) {
    ac_tx(c, from, to, 1);
    return ac_xfer(c, CH_XFER_NATIVE, NULL, from, to, value, 0);
}

void ac_commit(achain *c) {
    assert_int_equal(ch_store_commit(c->s, &c->err), 0);
}

void ac_reopen_read(achain *c) {
    ac_commit(c);
    ch_store_close(c->s);
    assert_int_equal(ch_store_open(c->dir, "eth", CH_STORE_READ, &c->s, &c->err), 0);
}

ch_addr_id ac_id(achain *c, const ch_addr *a) {
    ch_addr_id id = 0;
    uint64_t last;
    int rc = ch_store_find_addr(c->s, a, &id, &last, &c->err);
    assert_true(rc >= 0);
    return rc == 1 ? id : 0;
}

void ac_close(achain *c) {
    if (c->s) ch_store_close(c->s);
    c->s = NULL;
    if (c->dir) {
        tu_rmrf(c->dir);
        free(c->dir);
    }
    c->dir = NULL;
}
