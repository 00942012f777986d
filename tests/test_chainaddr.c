/* Addresses across chains: Keccak-256, EIP-55, every form on OFAC's list.
 *
 * Sources of the vectors (facts):
 *   Keccak-256 of "" and "abc": the Keccak team's reference values, as
 *     Ethereum uses them; "Transfer(address,address,uint256)" is the ERC-20
 *     Transfer event topic (EIP-20).
 *   EIP-55: https://eips.ethereum.org/EIPS/eip-55 "Test Cases".
 *   BIP173/BIP350 "Test vectors" (segwit addresses).
 *   cashaddr: the Bitcoin Cash cashaddr specification, "Examples of address
 *     translation" (legacy 1BpEi6... = bitcoincash:qpm2qs...).
 *   Real addresses: ../shared/fixtures (OFAC per-asset lists, mainnet block
 *     574,200 decoded by bitcoinjs-lib). */
#include "support/testutil.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/chainaddr.h"
#include "coinhound/hash.h"
#include "util/keccak.h"

static void hex_of(const uint8_t *b, size_t n, char *out) {
    ch_hex_encode(b, n, out);
}

static void test_keccak_vectors(void **state) {
    (void)state;
    static const struct {
        const char *in, *hex;
    } V[] = {
        {"", "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"},
        {"abc", "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"},
        {"Transfer(address,address,uint256)",
         "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"},
    };
    for (size_t i = 0; i < sizeof V / sizeof V[0]; i++) {
        uint8_t h[32];
        char hex[65];
        ch_keccak256(V[i].in, strlen(V[i].in), h);
        hex_of(h, 32, hex);
        assert_string_equal(hex, V[i].hex);
    }
}

/* The sponge (absorbing, multi-block inputs, the padding at every length
 * around the 136-byte rate) checked against OpenSSL's SHA3-256, which is the
 * same construction with domain byte 0x06. */
static void test_keccak_sponge_against_openssl_sha3(void **state) {
    (void)state;
    uint8_t msg[700];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)(i * 131 + 7);
    for (size_t len = 0; len <= sizeof msg; len++) {
        uint8_t mine[32], ref[32];
        unsigned n = 0;
        ch_keccak256_domain(msg, len, KECCAK_DOMAIN_SHA3, mine);
        assert_int_equal(EVP_Digest(msg, len, ref, &n, EVP_sha3_256(), NULL), 1);
        assert_int_equal(n, 32);
        if (memcmp(mine, ref, 32) != 0) fail_msg("SHA3-256 mismatch at length %zu", len);
    }
}

static const char *const EIP55[] = {
    /* all caps */
    "0x52908400098527886E0F7030069857D2E4169EE7",
    "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
    /* all lower */
    "0xde709f2102306220921060314715629080e2fb77",
    "0x27b1fdb04752bbc536007a920d24acb045561c26",
    /* normal */
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
};

static void test_eip55_examples(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof EIP55 / sizeof EIP55[0]; i++) {
        ch_chainaddr a;
        ch_error err = {{0}};
        uint8_t raw[20];
        char sum[43];
        if (ch_chainaddr_parse(EIP55[i], CH_FAM_UNKNOWN, &a, &err) != 0)
            fail_msg("%s: %s", EIP55[i], err.msg);
        assert_int_equal(a.family, CH_FAM_EVM);
        assert_int_equal(strlen(a.canonical), 42);
        for (size_t k = 0; k < 42; k++)
            assert_true(a.canonical[k] == (char)((EIP55[i][k] >= 'A' && EIP55[i][k] <= 'F')
                                                     ? EIP55[i][k] + 32
                                                     : (k == 1 ? 'x' : EIP55[i][k])));
        assert_int_equal(ch_hex_decode(a.canonical + 2, 40, raw, 20), 0);
        ch_evm_checksum_address(raw, sum);
        if (i >= 4) assert_string_equal(sum, EIP55[i]); /* the mixed-case ones are EIP-55 */
    }
}

static void test_eip55_rejects_wrong_case(void **state) {
    (void)state;
    for (size_t i = 4; i < sizeof EIP55 / sizeof EIP55[0]; i++) {
        char bad[43];
        int flipped = 0;
        strcpy(bad, EIP55[i]);
        /* Flip the case of each letter in turn: every flip must fail. */
        for (size_t k = 2; k < 42; k++) {
            char c = bad[k];
            if (!((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) continue;
            bad[k] = (char)(c ^ 0x20);
            ch_chainaddr a;
            ch_error err = {{0}};
            /* A flip that makes the whole string single-case is legal
             * (no checksum claimed); skip those. */
            bool up = false, low = false;
            for (size_t j = 2; j < 42; j++) {
                up |= (bad[j] >= 'A' && bad[j] <= 'F');
                low |= (bad[j] >= 'a' && bad[j] <= 'f');
            }
            if (up && low) {
                assert_int_equal(ch_chainaddr_parse(bad, CH_FAM_EVM, &a, &err), -1);
                assert_non_null(strstr(err.msg, "bad checksum"));
                flipped++;
            }
            bad[k] = c;
        }
        assert_true(flipped > 0);
    }
}

static void test_evm_forms(void **state) {
    (void)state;
    ch_chainaddr a;
    ch_error err = {{0}};
    /* The Ronin bridge exploiter (OFAC SDN 2022-04-14), as the fixture and
     * the issue write it. */
    const char *ronin = "0x098B716B8Aaf21512996dC57EB0615e2383E2f96";
    assert_int_equal(ch_chainaddr_parse(ronin, CH_FAM_EVM, &a, &err), 0);
    assert_string_equal(a.canonical, "0x098b716b8aaf21512996dc57eb0615e2383e2f96");
    assert_int_equal(
        ch_chainaddr_parse("0X098B716B8AAF21512996DC57EB0615E2383E2F96", CH_FAM_UNKNOWN, &a, &err),
        0);
    assert_string_equal(a.canonical, "0x098b716b8aaf21512996dc57eb0615e2383e2f96");
    assert_int_equal(ch_chainaddr_parse("  0x098b716b8aaf21512996dc57eb0615e2383e2f96\n",
                                        CH_FAM_UNKNOWN, &a, &err),
                     0);
    assert_int_equal(
        ch_chainaddr_parse("0x098b716b8aaf21512996dc57eb0615e2383e2f9", CH_FAM_EVM, &a, &err), -1);
    assert_int_equal(
        ch_chainaddr_parse("0x098b716b8aaf21512996dc57eb0615e2383e2f9g", CH_FAM_EVM, &a, &err), -1);
    assert_non_null(strstr(err.msg, "invalid character"));
    assert_int_equal(ch_chainaddr_parse("", CH_FAM_UNKNOWN, &a, &err), -1);
    assert_int_equal(
        ch_chainaddr_parse("0x098b716b8aaf2151 2996dc57eb0615e2383e2f96", CH_FAM_UNKNOWN, &a, &err),
        -1);
}

/* Change one character to another of the same alphabet, at every position
 * past the prefix: a checksummed form must refuse each. */
static void expect_mutations_fail(const char *addr, ch_family hint, size_t from) {
    static const char B58[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    static const char B32[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    char m[CH_ADDR_STR_MAX];
    size_t n = strlen(addr);
    const char *colon = strchr(addr, ':');
    bool bech = !strncmp(addr, "bc1", 3) || !strncmp(addr, "tb1", 3) || !strncmp(addr, "ltc1", 4);
    bool cash = colon || ((addr[0] == 'q' || addr[0] == 'p') && n == 42);
    const char *alpha = (bech || cash) ? B32 : B58;
    if (colon) from = (size_t)(colon - addr) + 1;
    for (size_t i = from; i < n; i++) {
        strcpy(m, addr);
        const char *p = strchr(alpha, m[i]);
        if (!p) continue;
        size_t k = (size_t)(p - alpha);
        m[i] = alpha[(k + 1 + i) % strlen(alpha)];
        if (m[i] == addr[i]) continue;
        ch_chainaddr a;
        ch_error err = {{0}};
        if (ch_chainaddr_parse(m, hint, &a, &err) == 0)
            fail_msg("mistyped %s (from %s) was accepted as %s %s", m, addr,
                     ch_family_name(a.family), a.canonical);
    }
}

static void test_btc_bip_vectors(void **state) {
    (void)state;
    ch_chainaddr a;
    ch_error err = {{0}};
    assert_int_equal(
        ch_chainaddr_parse("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", CH_FAM_UNKNOWN, &a, &err),
        0);
    assert_int_equal(a.family, CH_FAM_BTC);
    assert_false(a.testnet);
    assert_string_equal(a.canonical, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4");
    assert_int_equal(
        ch_chainaddr_parse("tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
                           CH_FAM_BTC, &a, &err),
        0);
    assert_true(a.testnet);
    assert_int_equal(
        ch_chainaddr_parse("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
                           CH_FAM_UNKNOWN, &a, &err),
        0);
    assert_int_equal(a.family, CH_FAM_BTC);
    /* BIP173/350 invalid: bad checksum; v0 with a Bech32m checksum. */
    assert_int_equal(
        ch_chainaddr_parse("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", CH_FAM_UNKNOWN, &a, &err),
        -1);
    assert_non_null(strstr(err.msg, "bad checksum"));
    assert_int_equal(
        ch_chainaddr_parse("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh", CH_FAM_UNKNOWN, &a, &err),
        -1);
    expect_mutations_fail("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", CH_FAM_BTC, 3);
}

/* Every address of a real block (bitcoinjs-lib's decoding) parses as BTC
 * mainnet, unchanged, and each mistyped copy of a sample fails. */
static void test_btc_real_block_addresses(void **state) {
    (void)state;
    const char *path = tu_fixture("btc/block-59d2.expected.jsonl");
    if (!path) skip();
    size_t len = 0;
    char *text = (char *)tu_read_file(path, &len);
    assert_non_null(text);
    size_t count = 0, mutated = 0;
    for (char *p = text; (p = strstr(p, ",\"")) != NULL;) {
        char addr[CH_ADDR_STR_MAX];
        char *q = strchr(p + 2, '"');
        if (!q || (size_t)(q - p - 2) >= sizeof addr) break;
        memcpy(addr, p + 2, (size_t)(q - p - 2));
        addr[q - p - 2] = '\0';
        p = q;
        if (!strcmp(addr, "outs") || !strcmp(addr, "txid") || !strcmp(addr, "h")) continue;
        ch_chainaddr a;
        ch_error err = {{0}};
        if (ch_chainaddr_parse(addr, CH_FAM_UNKNOWN, &a, &err) != 0)
            fail_msg("%s: %s", addr, err.msg);
        assert_int_equal(a.family, CH_FAM_BTC);
        assert_false(a.testnet);
        assert_string_equal(a.canonical, addr);
        if (count++ % 500 == 0) {
            expect_mutations_fail(addr, CH_FAM_UNKNOWN, 1);
            mutated++;
        }
    }
    free(text);
    assert_true(count > 5000);
    assert_true(mutated > 5);
}

typedef struct list_stats {
    size_t total, as_listed, exceptions;
} list_stats;

static void check_ofac_list(const char *asset, list_stats *st) {
    char rel[128];
    snprintf(rel, sizeof rel, "intel/ofac-lists/sanctioned_addresses_%s.txt", asset);
    const char *path = tu_fixture(rel);
    if (!path) return;
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    ch_family fam = ch_family_from_asset(asset);
    assert_int_not_equal(fam, CH_FAM_UNKNOWN);
    char line[256];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0]) continue;
        ch_chainaddr a, again;
        ch_error err = {{0}};
        if (ch_chainaddr_parse(line, fam, &a, &err) != 0)
            fail_msg("%s list: %s: %s", asset, line, err.msg);
        st->total++;
        if (a.family == fam) {
            st->as_listed++;
        } else {
            /* Two kinds of mismatch exist on the list, both real: USDT
             * lives on Tron and on Bitcoin's Omni layer as well as on
             * Ethereum, and one Tron address is filed under XBT. */
            bool tron = a.family == CH_FAM_TRX && line[0] == 'T';
            bool omni = a.family == CH_FAM_BTC && !strcmp(asset, "USDT");
            if (!tron && !omni)
                fail_msg("%s list: %s parsed as %s", asset, line, ch_family_name(a.family));
            st->exceptions++;
        }
        assert_false(a.testnet);
        /* The canonical form re-parses to itself. */
        assert_int_equal(ch_chainaddr_parse(a.canonical, fam, &again, &err), 0);
        assert_string_equal(again.canonical, a.canonical);
        /* EVM: any letter case names the same key. */
        if (a.family == CH_FAM_EVM) {
            char up[64];
            strcpy(up, a.canonical);
            for (char *c = up + 2; *c; c++)
                if (*c >= 'a' && *c <= 'f') *c = (char)(*c - 32);
            assert_int_equal(ch_chainaddr_parse(up, CH_FAM_UNKNOWN, &again, &err), 0);
            assert_string_equal(again.canonical, a.canonical);
        }
    }
    fclose(f);
}

static void test_every_ofac_address_validates(void **state) {
    (void)state;
    static const char *const ASSETS[] = {"XBT", "ETH", "XMR", "LTC", "ZEC",  "DASH",
                                         "BTG", "ETC", "BSV", "BCH", "USDT", "USDC",
                                         "TRX", "ARB", "BSC", "XRP", "XVG"};
    if (!tu_fixture("intel/ofac-lists/sanctioned_addresses_XBT.txt")) skip();
    list_stats st = {0, 0, 0};
    for (size_t i = 0; i < sizeof ASSETS / sizeof ASSETS[0]; i++)
        check_ofac_list(ASSETS[i], &st);
    /* 654 lines as of 2024-09-27 (wc -l of the .txt files). */
    assert_int_equal(st.total, 654);
    assert_true(st.exceptions > 0 && st.exceptions < 30);
    print_message("OFAC lists: %zu addresses, %zu under their asset's family, %zu filed under "
                  "another asset's family (Tron or Omni USDT, a Tron address under XBT)\n",
                  st.total, st.as_listed, st.exceptions);
}

static void test_ofac_samples_per_family(void **state) {
    (void)state;
    /* One of each form, with mistyped copies; each address is on OFAC's
     * list (see the fixtures). */
    static const struct {
        const char *addr;
        ch_family hint, want;
    } V[] = {
        {"LNf2JDiuunBz7GMDKFYHN4rq5meXWxiwfb", CH_FAM_LTC, CH_FAM_LTC},
        {"XnPFsRWTaSgiVauosEwQ6dEitGYXgwznz2", CH_FAM_UNKNOWN, CH_FAM_DASH},
        {"GPwg61XoHqQPNmAucFACuQ5H9sGCDv9TpS", CH_FAM_UNKNOWN, CH_FAM_BTG},
        {"t1MMXtBrSp1XG38Lx9cePcNUCJj5vdWfUWL", CH_FAM_UNKNOWN, CH_FAM_ZEC},
        {"TBHTJqAy4DhHhmT3dNceJYNRz4SdLofLre", CH_FAM_UNKNOWN, CH_FAM_TRX},
        {"rnXyVQzgxZe7TR1EPzTkGj2jxH4LMJYh66", CH_FAM_UNKNOWN, CH_FAM_XRP},
        {"DFFJhnQNZf8rf67tYnesPu7MuGUpYtzv7Z", CH_FAM_UNKNOWN, CH_FAM_XVG},
        {"12sjrrhoFEsedNRhtgwvvRqjFTh8fZTDX9", CH_FAM_BSV, CH_FAM_BSV},
        {"12sjrrhoFEsedNRhtgwvvRqjFTh8fZTDX9", CH_FAM_UNKNOWN, CH_FAM_BTC},
        {"18M8bJWMzWHDBMxoLqjHHAffdRy4SrzkfB", CH_FAM_BCH, CH_FAM_BCH},
        {"49HqitRzdnhYjgTEAhgGpCfsjdTeMbUTU6cyR4JV1R7k2Eej9rGT8JpFiYDa4tZM6RZiFrHmMzgSrhHEqpDYKBe5"
         "B2ufNsL",
         CH_FAM_UNKNOWN, CH_FAM_XMR},
        {"884Bz8UH63aYsjVdkfWfScRYWZGGNbjFL7pztqvWNSrtYT4reFSwyvkCj9KEGUtheHhhMUj87ciTBFyzoesrMJ4"
         "L1FvSoxL",
         CH_FAM_XMR, CH_FAM_XMR},
    };
    for (size_t i = 0; i < sizeof V / sizeof V[0]; i++) {
        ch_chainaddr a;
        ch_error err = {{0}};
        if (ch_chainaddr_parse(V[i].addr, V[i].hint, &a, &err) != 0)
            fail_msg("%s: %s", V[i].addr, err.msg);
        if (a.family != V[i].want)
            fail_msg("%s: family %s, want %s", V[i].addr, ch_family_name(a.family),
                     ch_family_name(V[i].want));
        assert_string_equal(a.canonical, V[i].addr);
        expect_mutations_fail(V[i].addr, V[i].hint, 1);
    }
    /* A Monero address one character short is refused by length. */
    ch_chainaddr a;
    ch_error err = {{0}};
    assert_int_equal(ch_chainaddr_parse("49HqitRzdnhYjgTEAhgGpCfsjdTeMbUTU6cyR4JV1R7k2Eej9rGT8Jp"
                                        "FiYDa4tZM6RZiFrHmMzgSrhHEqpDYKBe5B2ufNs",
                                        CH_FAM_XMR, &a, &err),
                     -1);
}

static void test_cashaddr(void **state) {
    (void)state;
    ch_chainaddr a;
    ch_error err = {{0}};
    /* Spec example: hash160 76a04053bda0a88bda5177b86a15c3b29f559873. */
    const char *p2pkh = "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a";
    const char *p2sh = "bitcoincash:ppm2qsznhks23z7629mms6s4cwef74vcwvn0h829pq";
    assert_int_equal(ch_chainaddr_parse(p2pkh, CH_FAM_UNKNOWN, &a, &err), 0);
    assert_int_equal(a.family, CH_FAM_BCH);
    assert_string_equal(a.canonical, p2pkh);
    assert_int_equal(ch_chainaddr_parse(p2sh, CH_FAM_BCH, &a, &err), 0);
    assert_string_equal(a.canonical, p2sh);
    /* Prefix optional in input, always present in the canonical form. */
    assert_int_equal(
        ch_chainaddr_parse("qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a", CH_FAM_UNKNOWN, &a, &err),
        0);
    assert_string_equal(a.canonical, p2pkh);
    assert_int_equal(ch_chainaddr_parse("BITCOINCASH:QPM2QSZNHKS23Z7629MMS6S4CWEF74VCWVY22GDX6A",
                                        CH_FAM_BCH, &a, &err),
                     0);
    assert_string_equal(a.canonical, p2pkh);
    /* The legacy form of the same key hash is its own (Base58) key. */
    assert_int_equal(ch_chainaddr_parse("1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu", CH_FAM_BCH, &a, &err),
                     0);
    assert_int_equal(a.family, CH_FAM_BCH);
    assert_int_equal(ch_chainaddr_parse("bitcoincash:qpm2qsznhks23z7629Mms6s4cwef74vcwvy22gdx6a",
                                        CH_FAM_BCH, &a, &err),
                     -1);
    assert_non_null(strstr(err.msg, "mixed case"));
    assert_int_equal(ch_chainaddr_parse("bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6c",
                                        CH_FAM_BCH, &a, &err),
                     -1);
    assert_non_null(strstr(err.msg, "bad checksum"));
    /* The checksum covers the prefix: the same payload on testnet fails. */
    assert_int_equal(ch_chainaddr_parse("bchtest:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a",
                                        CH_FAM_BCH, &a, &err),
                     -1);
    expect_mutations_fail(p2pkh, CH_FAM_BCH, 0);
    expect_mutations_fail("qpf2cphc5dkuclkqur7lhj2yuqq9pk3hmukle77vhq", CH_FAM_UNKNOWN, 0);
}

static void test_xmr_listed_hex_value(void **state) {
    (void)state;
    ch_chainaddr a;
    ch_error err = {{0}};
    /* OFAC's XMR list holds this 64-digit hex value; it is stored under XMR
     * only when the caller names the asset. */
    const char *v = "5be5543ff73456ab9f2d207887e2af87322c651ea1a873c5b25b7ffae456c320";
    assert_int_equal(ch_chainaddr_parse(v, CH_FAM_XMR, &a, &err), 0);
    assert_int_equal(a.family, CH_FAM_XMR);
    assert_int_equal(ch_chainaddr_parse(v, CH_FAM_UNKNOWN, &a, &err), -1);
}

static void test_family_from_asset(void **state) {
    (void)state;
    assert_int_equal(ch_family_from_asset("XBT"), CH_FAM_BTC);
    assert_int_equal(ch_family_from_asset("eth"), CH_FAM_EVM);
    assert_int_equal(ch_family_from_asset("USDT"), CH_FAM_EVM);
    assert_int_equal(ch_family_from_asset("BSC"), CH_FAM_EVM);
    assert_int_equal(ch_family_from_asset("ARB"), CH_FAM_EVM);
    assert_int_equal(ch_family_from_asset("ETC"), CH_FAM_EVM);
    assert_int_equal(ch_family_from_asset("USDC"), CH_FAM_EVM);
    assert_int_equal(ch_family_from_asset("BCH"), CH_FAM_BCH);
    assert_int_equal(ch_family_from_asset("XMR"), CH_FAM_XMR);
    assert_int_equal(ch_family_from_asset("SOL"), CH_FAM_SOL);
    assert_int_equal(ch_family_from_asset("DOGEX"), CH_FAM_UNKNOWN);
    assert_int_equal(ch_family_from_asset(NULL), CH_FAM_UNKNOWN);
    assert_string_equal(ch_family_name(CH_FAM_EVM), "EVM");
    assert_string_equal(ch_family_name((ch_family)99), "unknown");
}

static void test_garbage_is_invalid(void **state) {
    (void)state;
    static const char *const BAD[] = {
        "hello",
        "1111111111111111111111111111111111", /* zeros: the checksum cannot hold */
        "bc1",
        "bitcoincash:",
        "0x",
        "T",
        "rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr",
        "\x01\x02",
        "49HqitRzdnhYjgTEAhgGpCfsjdTeMbUTU6cyR4JV1R7k2Eej9rGT8JpFiYDa4tZM6RZiFrHmMzgSrhHEqpDYKBe5B2"
        "ufNsM",
    };
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        ch_chainaddr a;
        ch_error err = {{0}};
        if (ch_chainaddr_parse(BAD[i], CH_FAM_UNKNOWN, &a, &err) == 0)
            fail_msg("accepted \"%s\" as %s", BAD[i], ch_family_name(a.family));
        assert_true(err.msg[0] != '\0');
    }
    char longs[300];
    memset(longs, 'a', sizeof longs - 1);
    longs[sizeof longs - 1] = '\0';
    ch_chainaddr a;
    ch_error err = {{0}};
    assert_int_equal(ch_chainaddr_parse(longs, CH_FAM_UNKNOWN, &a, &err), -1);
    assert_non_null(strstr(err.msg, "too long"));
}

/* Other chains' addresses. The Bech32 strings were encoded for this test
 * with the BIP173 reference algorithm (Python, independent of coinhound)
 * from 20-byte payloads; THOR_B58 is one that is also a plain base58
 * string of 32 bytes, so a guess by form would take it for a Solana key.
 * The Tezos address is a real one (tz1: Base58Check, version 06 a1 9f). */
#define THOR_B58   "thor1gtpp776kaueaxczmg5pjqpydyuefpxwnshvzs4"
#define THOR_PLAIN "thor104z9ysxf0jut8xezqvycr4mk09sglyw8cg8jxx"
#define COSMOS     "cosmos1fjlpjuttr2nn5e7ufv5vxsu3s7d4qvjeula3h5"

static void test_unsupported_chains_are_named(void **state) {
    (void)state;
    static const struct {
        const char *addr, *chain;
    } V[] = {
        {THOR_B58, "THORChain"},
        {THOR_PLAIN, "THORChain"},
        {"THOR104Z9YSXF0JUT8XEZQVYCR4MK09SGLYW8CG8JXX", "THORChain"},
        {COSMOS, "Cosmos"},
        /* a mistyped one is still another chain's, not "a bad checksum" */
        {"cosmos1fjlpjuttr2nn5e7ufv5vxsu3s7d4qvjeula3h6", "Cosmos"},
        {"osmo1tkhcz26v44ajppc0myzq5shwdz24glwyg9umw4", "Osmosis"},
        {"terra1ns2rrm4ef5n8mx93kyvfsgew7uy4uu4543zhff", "Terra"},
        {"maya149wmtv9vzk0y8p8l2hherj22nrw9v0txdgn7ye", "Maya"},
        {"tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx", "Base58Check string of version 0x06"},
        {"0x5be5543ff73456ab9f2d207887e2af87322c651ea1a873c5b25b7ffae456c320", "Aptos"},
    };
    static const ch_family HINTS[] = {CH_FAM_UNKNOWN, CH_FAM_BTC, CH_FAM_EVM, CH_FAM_SOL,
                                      CH_FAM_LTC};
    for (size_t i = 0; i < sizeof V / sizeof V[0]; i++) {
        char why[160];
        assert_int_equal(ch_chainaddr_unsupported(V[i].addr, why, sizeof why), 1);
        if (!strstr(why, V[i].chain))
            fail_msg("%s: \"%s\" does not name %s", V[i].addr, why, V[i].chain);
        for (size_t h = 0; h < sizeof HINTS / sizeof HINTS[0]; h++) {
            ch_chainaddr a;
            ch_error err = {{0}};
            if (ch_chainaddr_parse(V[i].addr, HINTS[h], &a, &err) == 0)
                fail_msg("%s guessed as %s", V[i].addr, ch_family_name(a.family));
            if (strncmp(err.msg, "unsupported chain: ", 19) != 0 || strstr(err.msg, "checksum"))
                fail_msg("%s (hint %s): \"%s\"", V[i].addr, ch_family_name(HINTS[h]), err.msg);
        }
    }
    /* Supported forms and mistyped ones are not "unsupported". */
    static const char *const OURS[] = {
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", /* bad checksum */
        "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
        "1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu",
        "1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggv",
        "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a",
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD",
        "5be5543ff73456ab9f2d207887e2af87322c651ea1a873c5b25b7ffae456c320",
        "hello",
    };
    for (size_t i = 0; i < sizeof OURS / sizeof OURS[0]; i++)
        if (ch_chainaddr_unsupported(OURS[i], NULL, 0))
            fail_msg("%s called another chain's", OURS[i]);
}

/* The reason of a refusal comes as a code, not from the message: a valid
 * address with one character changed fails its checksum (the genesis coinbase
 * address, BIP173's P2WPKH example, the cashaddr spec's P2PKH, EIP-55's
 * first mixed-case example), a string of no form is FORM, another chain's
 * address UNSUPPORTED. */
static void test_fault_says_checksum_or_form(void **state) {
    (void)state;
    static const struct {
        const char *s;
        ch_family hint;
        ch_addr_fault want;
    } V[] = {
        {"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", CH_FAM_UNKNOWN, CH_ADDR_FAULT_NONE},
        {"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", CH_FAM_UNKNOWN, CH_ADDR_FAULT_CHECKSUM},
        {"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfN0", CH_FAM_UNKNOWN, CH_ADDR_FAULT_FORM}, /* '0' */
        {"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", CH_FAM_UNKNOWN, CH_ADDR_FAULT_NONE},
        {"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", CH_FAM_UNKNOWN, CH_ADDR_FAULT_CHECKSUM},
        {"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3tb", CH_FAM_BTC, CH_ADDR_FAULT_FORM}, /* 'b' */
        {"bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a", CH_FAM_UNKNOWN,
         CH_ADDR_FAULT_NONE},
        {"bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6c", CH_FAM_UNKNOWN,
         CH_ADDR_FAULT_CHECKSUM},
        {"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", CH_FAM_UNKNOWN, CH_ADDR_FAULT_NONE},
        {"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", CH_FAM_EVM, CH_ADDR_FAULT_CHECKSUM},
        {"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaeg", CH_FAM_EVM, CH_ADDR_FAULT_FORM},
        {"0x5aaeb6053f3e94c9", CH_FAM_UNKNOWN, CH_ADDR_FAULT_FORM},
        {"hello", CH_FAM_UNKNOWN, CH_ADDR_FAULT_FORM},
        {THOR_PLAIN, CH_FAM_UNKNOWN, CH_ADDR_FAULT_UNSUPPORTED},
    };
    for (size_t i = 0; i < sizeof V / sizeof V[0]; i++) {
        ch_chainaddr a;
        ch_error err = {{0}};
        ch_addr_fault f = (ch_addr_fault)99;
        int rc = ch_chainaddr_parse_fault(V[i].s, V[i].hint, &a, &f, &err);
        if (f != V[i].want || rc != (V[i].want == CH_ADDR_FAULT_NONE ? 0 : -1))
            fail_msg("%s: fault %d (want %d), rc %d: %s", V[i].s, (int)f, (int)V[i].want, rc,
                     err.msg);
    }
    /* the EVM-only parser says the same of EVM strings */
    uint8_t raw[20];
    ch_addr_fault f;
    assert_int_equal(
        ch_evm_addr_parse_fault("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", raw, &f, NULL), -1);
    assert_int_equal(f, CH_ADDR_FAULT_CHECKSUM);
    assert_int_equal(
        ch_evm_addr_parse_fault("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe", raw, &f, NULL), -1);
    assert_int_equal(f, CH_ADDR_FAULT_FORM);
    assert_int_equal(ch_evm_addr_parse_fault(NULL, raw, &f, NULL), -1);
    assert_int_equal(f, CH_ADDR_FAULT_FORM);
    assert_int_equal(
        ch_evm_addr_parse_fault("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", raw, &f, NULL), 0);
    assert_int_equal(f, CH_ADDR_FAULT_NONE);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fault_says_checksum_or_form),
        cmocka_unit_test(test_keccak_vectors),
        cmocka_unit_test(test_keccak_sponge_against_openssl_sha3),
        cmocka_unit_test(test_eip55_examples),
        cmocka_unit_test(test_eip55_rejects_wrong_case),
        cmocka_unit_test(test_evm_forms),
        cmocka_unit_test(test_btc_bip_vectors),
        cmocka_unit_test(test_btc_real_block_addresses),
        cmocka_unit_test(test_every_ofac_address_validates),
        cmocka_unit_test(test_ofac_samples_per_family),
        cmocka_unit_test(test_cashaddr),
        cmocka_unit_test(test_xmr_listed_hex_value),
        cmocka_unit_test(test_family_from_asset),
        cmocka_unit_test(test_garbage_is_invalid),
        cmocka_unit_test(test_unsupported_chains_are_named),
    };
    return cmocka_run_group_tests_name("chainaddr", tests, NULL, NULL);
}
