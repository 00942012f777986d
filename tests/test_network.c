/* A store knows its network: blk files of testnet3, signet or regtest are
 * read as such (their records' magic), the store records it, every door
 * writes addresses in that network's form, and another network's blocks are
 * refused.
 *
 * The blocks are the real genesis blocks of testnet3, signet and regtest:
 * each is Bitcoin's mainnet genesis block (read from the shared fixture)
 * with its own time, bits and nonce (from Bitcoin Core's chainparams), and
 * the test checks each header's hash against the network's published
 * genesis hash before using it. The coinbase pays to a bare public key
 * whose HASH160 is 62e907b1...; its testnet Base58Check form
 * mpXwg4jMtRhuSpVq4xS3HFHmCmWp9NyGKt (version 0x6f) and mainnet form
 * 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa were computed with a Python Base58Check
 * written for this test, independent of coinhound's encoder. */
#include "support/testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "coinhound/hash.h"

#define TESTNET_P2PKH "mpXwg4jMtRhuSpVq4xS3HFHmCmWp9NyGKt"
#define MAINNET_P2PKH "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"

typedef struct net_case {
    const char *name;
    uint8_t magic[4];
    uint32_t time, bits, nonce;
    const char *genesis;
} net_case;

static const net_case NETS[] = {
    {"testnet3",
     {0x0b, 0x11, 0x09, 0x07},
     1296688602,
     0x1d00ffff,
     414098458,
     "000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943"},
    {"signet",
     {0x0a, 0x03, 0xcf, 0x40},
     1598918400,
     0x1e0377ae,
     52613770,
     "00000008819873e925422c1ff0f99f7cc9bbb232af63a077a480a3633bee1ef6"},
    {"regtest",
     {0xfa, 0xbf, 0xb5, 0xda},
     1296688602,
     0x207fffff,
     2,
     "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"},
};

static void put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* DIR/<name>/blk00000.dat: the network's genesis block in one record. */
static char *write_genesis_dir(const char *dir, const net_case *n, const uint8_t *mainnet_rec) {
    uint32_t size = (uint32_t)mainnet_rec[4] | (uint32_t)mainnet_rec[5] << 8 |
                    (uint32_t)mainnet_rec[6] << 16 | (uint32_t)mainnet_rec[7] << 24;
    assert_int_equal(size, 285); /* the genesis block */
    uint8_t rec[8 + 285];
    memcpy(rec, mainnet_rec, sizeof rec);
    memcpy(rec, n->magic, 4);
    put32(rec + 8 + 68, n->time);
    put32(rec + 8 + 72, n->bits);
    put32(rec + 8 + 76, n->nonce);
    ch_hash256 h;
    char hex[65];
    ch_sha256d(rec + 8, 80, &h);
    ch_hash256_to_hex(&h, hex);
    assert_string_equal(hex, n->genesis); /* the real genesis block of that network */
    static char path[4300];
    snprintf(path, sizeof path, "%s/%s", dir, n->name);
    assert_int_equal(mkdir(path, 0700), 0);
    char file[4400];
    snprintf(file, sizeof file, "%s/blk00000.dat", path);
    FILE *f = fopen(file, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(rec, 1, sizeof rec, f), sizeof rec);
    fclose(f);
    return path;
}

static char *run(const char *fmt, const char *a, const char *b, int *st) {
    char cmd[9000];
    snprintf(cmd, sizeof cmd, fmt, tu_bin("coinhound"), a, b);
    char *out = tu_run(cmd, st);
    assert_non_null(out);
    return out;
}

static void test_testnet_blocks_read_as_testnet(void **state) {
    (void)state;
    const char *fx = tu_fixture("btc/mainnet-0-255/blk00000.dat");
    if (!fx) skip();
    size_t len;
    uint8_t *mainnet = tu_read_file(fx, &len);
    assert_non_null(mainnet);
    assert_true(len > 8 + 285);
    char *dir = tu_tmpdir();
    for (size_t i = 0; i < sizeof NETS / sizeof NETS[0]; i++) {
        const net_case *n = &NETS[i];
        char blocks[4300], db[4300];
        snprintf(blocks, sizeof blocks, "%s", write_genesis_dir(dir, n, mainnet));
        snprintf(db, sizeof db, "%s/db-%s", dir, n->name);
        int st;
        char *out = run("%s ingest btc %s --db %s 2>&1", blocks, db, &st);
        if (st != 0) fail_msg("%s: ingest: %s", n->name, out);
        free(out);
        /* the store says its network */
        out = run("%s status --db %s --json%s", db, "", &st);
        assert_int_equal(st, 0);
        json_t *j = json_loads(out, 0, NULL);
        assert_non_null(j);
        assert_string_equal(json_string_value(json_object_get(j, "network")), n->name);
        assert_string_equal(json_string_value(json_object_get(j, "tip_hash")), n->genesis);
        json_decref(j);
        free(out);
        /* addresses in the network's form, never mainnet's */
        out = run("%s tx 4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b --db %s "
                  "--json%s",
                  db, "", &st);
        assert_int_equal(st, 0);
        assert_non_null(strstr(out, "\"address\":\"" TESTNET_P2PKH "\""));
        assert_null(strstr(out, MAINNET_P2PKH));
        free(out);
        out = run("%s address %s --db %s", TESTNET_P2PKH, db, &st);
        assert_int_equal(st, 0);
        assert_non_null(strstr(out, "address   " TESTNET_P2PKH));
        assert_non_null(strstr(out, "50.00000000"));
        free(out);
        /* another network's blocks are refused, the store unchanged */
        char main_dir[4300];
        snprintf(main_dir, sizeof main_dir, "%s", fx);
        *strrchr(main_dir, '/') = '\0';
        out = run("%s ingest btc %s --db %s 2>&1", main_dir, db, &st);
        assert_int_equal(st, 2);
        assert_non_null(strstr(out, n->name));
        assert_non_null(strstr(out, "mainnet"));
        free(out);
        out = run("%s status --db %s%s", db, "", &st);
        assert_non_null(strstr(out, "blocks     1\n"));
        free(out);
    }
    /* and mainnet stays mainnet */
    char db[4300], main_dir[4300];
    snprintf(main_dir, sizeof main_dir, "%s", fx);
    *strrchr(main_dir, '/') = '\0';
    snprintf(db, sizeof db, "%s/db-main", dir);
    int st;
    char *out = run("%s ingest btc %s --db %s >/dev/null 2>&1", main_dir, db, &st);
    assert_int_equal(st, 0);
    free(out);
    out = run("%s status --db %s --json%s", db, "", &st);
    assert_non_null(strstr(out, "\"network\":\"mainnet\""));
    free(out);
    out = run("%s address %s --db %s", MAINNET_P2PKH, db, &st);
    assert_non_null(strstr(out, "address   " MAINNET_P2PKH));
    free(out);
    free(mainnet);
    tu_rmrf(dir);
    free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_testnet_blocks_read_as_testnet),
    };
    return cmocka_run_group_tests_name("network", tests, NULL, NULL);
}
