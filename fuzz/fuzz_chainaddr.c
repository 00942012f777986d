/* libFuzzer: address parsing on arbitrary bytes.
 *
 * Input: first byte = family hint (mod CH_FAM_COUNT), the rest = the string.
 * Properties: never crashes or reads out of bounds; an accepted address's
 * canonical form re-parses to itself (with the same hint and with its own
 * family as hint); an EIP-55 form of any 20 bytes parses back to them;
 * ch_chainaddr_parse_many, given the string's lines as one batch, answers
 * each as ch_chainaddr_parse_fault does (result, fault, canonical form,
 * message); the fast path of the common forms answers as the general
 * parser does (chainaddr_parse_general), field for field. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/chainaddr.h"
#include "coinhound/hash.h"
#include "intel/chainaddr_general.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char s[300];
    ch_chainaddr a, b;
    ch_error err;
    if (size == 0) return 0;
    ch_family hint = (ch_family)(data[0] % CH_FAM_COUNT);
    size_t n = size - 1 < sizeof s - 1 ? size - 1 : sizeof s - 1;
    memcpy(s, data + 1, n);
    s[n] = '\0';

    if (ch_chainaddr_parse(s, hint, &a, &err) == 0) {
        if (a.family == CH_FAM_UNKNOWN || strlen(a.canonical) == 0) abort();
        if (ch_chainaddr_parse(a.canonical, hint, &b, &err) != 0) abort();
        if (strcmp(a.canonical, b.canonical) != 0 || a.family != b.family) abort();
        if (ch_chainaddr_parse(a.canonical, a.family, &b, &err) != 0) abort();
        if (strcmp(a.canonical, b.canonical) != 0) abort();
    } else if (err.msg[0] == '\0') {
        abort(); /* every refusal says why */
    }

    /* the fast path against the general parser */
    {
        ch_chainaddr f, g;
        ch_addr_fault ff, gf;
        ch_error fe, ge;
        fe.msg[0] = ge.msg[0] = '\0';
        int fr = ch_chainaddr_parse_fault(s, hint, &f, &ff, &fe);
        int gr = chainaddr_parse_general(s, hint, &g, &gf, &ge);
        if (fr != gr || ff != gf) abort();
        if (fr == 0 && (strcmp(f.canonical, g.canonical) != 0 || f.family != g.family ||
                        f.testnet != g.testnet))
            abort();
        if (fr != 0 && strcmp(fe.msg, ge.msg) != 0) abort();
    }

    /* the batch parser, on the string's lines (with the EIP-55 form of the
     * first bytes among them, so that batches hold hashes worked out ahead) */
    {
        enum { LINES = 12 };
        char buf[sizeof s + 64], sum[43];
        const char *line[LINES];
        size_t nl = 0;
        memcpy(buf, s, n + 1);
        if (size >= 21) {
            ch_evm_checksum_address(data + 1, sum);
            line[nl++] = sum;
        }
        for (char *p = buf, *q; nl < LINES && p; p = q) {
            q = strchr(p, '\n');
            if (q) *q++ = '\0';
            line[nl++] = p;
        }
        ch_chainaddr out[LINES], one;
        int rc[LINES];
        ch_addr_fault fault[LINES], f1;
        ch_error errs[LINES], e1;
        ch_chainaddr_parse_many(line, nl, hint, out, rc, fault, errs);
        for (size_t i = 0; i < nl; i++) {
            e1.msg[0] = '\0';
            int r1 = ch_chainaddr_parse_fault(line[i], hint, &one, &f1, &e1);
            if (r1 != rc[i] || f1 != fault[i]) abort();
            if (r1 == 0 && (strcmp(one.canonical, out[i].canonical) || one.family != out[i].family))
                abort();
            if (r1 != 0 && strcmp(e1.msg, errs[i].msg)) abort();
        }
    }

    if (size >= 21) {
        char sum[43];
        uint8_t back[20];
        ch_evm_checksum_address(data + 1, sum);
        if (ch_chainaddr_parse(sum, CH_FAM_UNKNOWN, &a, &err) != 0) abort();
        if (ch_hex_decode(a.canonical + 2, 40, back, 20) != 0 || memcmp(back, data + 1, 20) != 0)
            abort();
    }
    return 0;
}
