/* SHA-256d, HASH160 and hex against published values. */
#include "support/testutil.h"

#include <openssl/evp.h>
#include <string.h>

#include "coinhound/hash.h"

static void test_genesis_header_hash(void **state) {
    (void)state;
    /* Bitcoin's genesis block header (a published constant). */
    static const char HDR[] = "0100000000000000000000000000000000000000000000000000000000000000"
                              "000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa"
                              "4b1e5e4a29ab5f49ffff001d1dac2b7c";
    uint8_t raw[80];
    assert_int_equal(ch_hex_decode(HDR, 160, raw, 80), 0);
    ch_hash256 h;
    ch_sha256d(raw, 80, &h);
    char hex[65];
    ch_hash256_to_hex(&h, hex);
    assert_string_equal(hex, "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f");
    ch_hash256 back;
    assert_int_equal(ch_hash256_from_hex(hex, &back), 0);
    assert_memory_equal(back.b, h.b, 32);
}

static void test_hash160(void **state) {
    (void)state;
    /* HASH160 of the empty string: RIPEMD160(SHA256("")) */
    ch_hash160 h;
    ch_hash160_of("", 0, &h);
    char hex[41];
    ch_hex_encode(h.b, 20, hex);
    assert_string_equal(hex, "b472a266d0bd89c13706a4132ccfb16f7c3b9fcb");
}

static void test_hex_rejects_bad_digits(void **state) {
    (void)state;
    uint8_t out[2];
    assert_int_equal(ch_hex_decode("zz00", 4, out, 2), -1);
    assert_int_equal(ch_hex_decode("abc", 3, out, 2), -1);
    ch_hash256 h;
    assert_int_equal(ch_hash256_from_hex("00", &h), -1);
}

/* ch_sha256d (every Base58Check checksum) against OpenSSL's EVP SHA-256
 * applied twice, at every length up to 200 bytes: across the one-block
 * limit of 55 bytes and several block sizes. */
static void test_sha256d_every_length_against_evp(void **state) {
    (void)state;
    uint8_t msg[200];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)(i * 131 + 7);
    for (size_t len = 0; len <= sizeof msg; len++) {
        uint8_t first[32], want[32];
        unsigned int n = 0;
        assert_int_equal(EVP_Digest(msg, len, first, &n, EVP_sha256(), NULL), 1);
        assert_int_equal(EVP_Digest(first, 32, want, &n, EVP_sha256(), NULL), 1);
        ch_hash256 got;
        ch_sha256d(msg, len, &got);
        if (memcmp(got.b, want, 32) != 0) fail_msg("length %zu differs", len);
    }
}

/* SHA256d of a message fed in pieces (ch_sha256_update, then
 * ch_sha256d_final, as the txid of a segwit transaction is hashed) and of
 * many 64-byte messages (a merkle node's pair, hashed as two compressions)
 * against EVP's SHA-256 applied twice. */
static void test_sha256d_pieces_and_pairs_against_evp(void **state) {
    (void)state;
    uint8_t msg[300];
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    for (int round = 0; round < 500; round++) {
        for (size_t i = 0; i < sizeof msg; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            msg[i] = (uint8_t)x;
        }
        size_t len = round % 2 ? 64 : (size_t)(x % sizeof msg),
               cut = len ? (size_t)(x >> 20) % len : 0;
        uint8_t first[32], want[32];
        unsigned int n = 0;
        assert_int_equal(EVP_Digest(msg, len, first, &n, EVP_sha256(), NULL), 1);
        assert_int_equal(EVP_Digest(first, 32, want, &n, EVP_sha256(), NULL), 1);
        ch_hash256 whole, pieces;
        ch_sha256d(msg, len, &whole);
        ch_sha256_ctx c;
        ch_sha256_init(&c);
        ch_sha256_update(&c, msg, cut);
        ch_sha256_update(&c, msg + cut, len - cut);
        ch_sha256d_final(&c, &pieces);
        if (memcmp(whole.b, want, 32) != 0)
            fail_msg("round %d, length %zu: whole differs", round, len);
        if (memcmp(pieces.b, want, 32) != 0)
            fail_msg("round %d, length %zu cut at %zu: pieces differ", round, len, cut);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_genesis_header_hash),
        cmocka_unit_test(test_hash160),
        cmocka_unit_test(test_hex_rejects_bad_digits),
        cmocka_unit_test(test_sha256d_every_length_against_evp),
        cmocka_unit_test(test_sha256d_pieces_and_pairs_against_evp),
    };
    return cmocka_run_group_tests_name("hash", tests, NULL, NULL);
}
