/* The finished block as three JSON-RPC responses, one line each: the block
 * with full transactions, its receipts, and (when a call frame moves value)
 * its callTracer trace. Keys are in the order geth prints them. Written by
 * hand into one buffer: the shapes are fixed and this is the hot path. */
#include "evg_internal.h"

#include <stdlib.h>
#include <string.h>

#include "coinhound/hash.h"
#include "util/vec.h"

static const char HEX[] = "0123456789abcdef";

/* keccak256 of the RLP of an empty trie: the root of an empty list */
static const char EMPTY_ROOT[] =
    "0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421";
/* keccak256(rlp([])): no uncles */
static const char EMPTY_UNCLES[] =
    "0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347";
/* mainnet's total difficulty at the merge, frozen since */
static const char TOTAL_DIFFICULTY[] = "0xc70d815d562d3cfa955";

#define GAS_LIMIT 30000000ULL

static void reserve(evg *g, size_t n) {
    if (g->out_len + n <= g->out_cap) return;
    char *p = ch_grow(g->out, &g->out_cap, g->out_len + n, 1); /* util/vec.h */
    if (!p) abort();
    g->out = p;
}

static void s(evg *g, const char *str) {
    size_t n = strlen(str);
    reserve(g, n);
    memcpy(g->out + g->out_len, str, n);
    g->out_len += n;
}

/* "0x" + bytes in hex, quoted */
static void hexq(evg *g, const uint8_t *b, size_t n) {
    reserve(g, 2 * n + 4);
    char *o = g->out + g->out_len;
    *o++ = '"';
    *o++ = '0';
    *o++ = 'x';
    for (size_t i = 0; i < n; i++) {
        *o++ = HEX[b[i] >> 4];
        *o++ = HEX[b[i] & 15];
    }
    *o++ = '"';
    g->out_len = (size_t)(o - g->out);
}

/* a JSON-RPC quantity: "0x" + hex without leading zeros ("0x0" for zero) */
static void qty(evg *g, u128 v) {
    char tmp[34];
    int n = 0;
    do {
        tmp[n++] = HEX[(unsigned)(v & 15)];
        v >>= 4;
    } while (v);
    reserve(g, (size_t)n + 4);
    char *o = g->out + g->out_len;
    *o++ = '"';
    *o++ = '0';
    *o++ = 'x';
    while (n)
        *o++ = tmp[--n];
    *o++ = '"';
    g->out_len = (size_t)(o - g->out);
}

static void addr(evg *g, uint32_t acct) {
    hexq(g, g->a[acct].addr, 20);
}

/* The three bloom bits of an item: 11-bit slices of its Keccak hash. */
typedef struct evg_bloom_slot {
    uint8_t item[32];
    uint8_t len; /* 0: empty */
    uint16_t bit[3];
} evg_bloom_slot;

#define BLOOM_CACHE (1u << 16)

static void bloom_add(evg *g, uint8_t bloom[256], const uint8_t *item, size_t n) {
    if (!g->bloom_cache) {
        g->bloom_cache = calloc(BLOOM_CACHE, sizeof *g->bloom_cache);
        if (!g->bloom_cache) abort();
    }
    /* the last bytes vary most (addresses are right-aligned in topics) */
    uint64_t k = 0;
    memcpy(&k, item + n - 8, 8);
    evg_bloom_slot *c = &g->bloom_cache[(k * 0x9e3779b97f4a7c15ULL) >> 48];
    if (c->len != n || memcmp(c->item, item, n) != 0) {
        uint8_t h[32];
        ch_keccak256(item, n, h);
        memcpy(c->item, item, n);
        c->len = (uint8_t)n;
        for (int i = 0; i < 3; i++)
            c->bit[i] = (uint16_t)(((unsigned)h[2 * i] << 8 | h[2 * i + 1]) & 2047);
    }
    for (int i = 0; i < 3; i++)
        bloom[255 - c->bit[i] / 8] |= (uint8_t)(1u << (c->bit[i] % 8));
}

static void tx_bloom(evg *g, const evg_tx *t, uint8_t bloom[256]) {
    memset(bloom, 0, 256);
    for (uint32_t i = t->first_log; i < t->first_log + t->n_logs; i++) {
        const evg_log *l = &g->log[i];
        bloom_add(g, bloom, g->a[l->contract].addr, 20);
        for (unsigned k = 0; k < l->n_topics; k++)
            bloom_add(g, bloom, l->topics[k], 32);
    }
}

static void line_begin(evg *g) {
    g->out_len = 0;
    s(g, "{\"jsonrpc\":\"2.0\",\"id\":");
    char num[24];
    snprintf(num, sizeof num, "%llu", (unsigned long long)g->number);
    s(g, num);
    s(g, ",\"result\":");
}

static int line_end(evg *g, FILE *f, ch_error *err) {
    s(g, "}\n");
    if (fwrite(g->out, 1, g->out_len, f) != g->out_len)
        return ch_err(err, "cannot write block %llu", (unsigned long long)g->number);
    g->st.bytes += g->out_len;
    return 0;
}

/* One tx as eth_getBlockByNumber writes it (legacy or EIP-1559 fields), into
 * the block being written. */
static void tx_json(evg *g, const evg_tx *t, uint32_t idx, const uint8_t bhash[32]) {
    bool dyn = t->p.type == 2;
    s(g, "{");
    if (dyn) s(g, "\"accessList\":[],");
    s(g, "\"blockHash\":");
    hexq(g, bhash, 32);
    s(g, ",\"blockNumber\":");
    qty(g, g->number);
    s(g, ",\"chainId\":");
    qty(g, g->o->chain_id);
    s(g, ",\"from\":");
    addr(g, t->from);
    s(g, ",\"gas\":");
    qty(g, t->gas);
    s(g, ",\"gasPrice\":");
    qty(g, t->p.eff);
    s(g, ",\"hash\":");
    hexq(g, t->hash, 32);
    s(g, ",\"input\":");
    hexq(g, g->in + t->in_off, t->in_len);
    if (dyn) {
        s(g, ",\"maxFeePerGas\":");
        qty(g, t->p.max_fee);
        s(g, ",\"maxPriorityFeePerGas\":");
        qty(g, t->p.max_prio);
    }
    s(g, ",\"nonce\":");
    qty(g, t->nonce);
    s(g, ",\"r\":");
    hexq(g, t->r, 32);
    s(g, ",\"s\":");
    hexq(g, t->s, 32);
    s(g, ",\"to\":");
    if (t->to == EVG_NONE)
        s(g, "null");
    else
        addr(g, t->to);
    s(g, ",\"transactionIndex\":");
    qty(g, idx);
    s(g, dyn ? ",\"type\":\"0x2\",\"v\":" : ",\"type\":\"0x0\",\"v\":");
    /* legacy: EIP-155 v = chainId * 2 + 35 + parity */
    qty(g, dyn ? t->parity : (u128)g->o->chain_id * 2 + 35 + t->parity);
    s(g, ",\"value\":");
    qty(g, t->value);
    if (dyn) s(g, t->parity ? ",\"yParity\":\"0x1\"" : ",\"yParity\":\"0x0\"");
    s(g, "}");
}

/* The block as one JSON line of blocks.jsonl, in eth_getBlockByNumber's form
 * with full txs and withdrawals. */
static void write_blocks(evg *g, const uint8_t hash[32], const uint8_t roots[6][32],
                         const uint8_t bloom[256], uint64_t gas_used) {
    line_begin(g);
    s(g, "{\"baseFeePerGas\":");
    qty(g, g->base_fee);
    s(g, ",\"blobGasUsed\":\"0x0\",\"difficulty\":\"0x0\",\"excessBlobGas\":\"0x0\","
         "\"extraData\":\"0x636f696e686f756e64\",\"gasLimit\":");
    qty(g, GAS_LIMIT);
    s(g, ",\"gasUsed\":");
    qty(g, gas_used);
    s(g, ",\"hash\":");
    hexq(g, hash, 32);
    s(g, ",\"logsBloom\":");
    hexq(g, bloom, 256);
    s(g, ",\"miner\":");
    addr(g, g->miner_cur);
    s(g, ",\"mixHash\":");
    hexq(g, roots[3], 32);
    s(g, ",\"nonce\":\"0x0000000000000000\",\"number\":");
    qty(g, g->number);
    s(g, ",\"parentBeaconBlockRoot\":");
    hexq(g, roots[4], 32);
    s(g, ",\"parentHash\":");
    hexq(g, g->parent, 32);
    s(g, ",\"receiptsRoot\":");
    if (g->n_tx) {
        hexq(g, roots[1], 32);
    } else {
        s(g, "\"");
        s(g, EMPTY_ROOT);
        s(g, "\"");
    }
    s(g, ",\"sha3Uncles\":\"");
    s(g, EMPTY_UNCLES);
    s(g, "\",\"size\":");
    uint64_t size = 620 + 120ull * g->n_wd;
    for (uint32_t i = 0; i < g->n_tx; i++)
        size += 115 + g->tx[i].in_len;
    qty(g, size);
    s(g, ",\"stateRoot\":");
    hexq(g, roots[2], 32);
    s(g, ",\"timestamp\":");
    qty(g, g->timestamp);
    s(g, ",\"totalDifficulty\":\"");
    s(g, TOTAL_DIFFICULTY);
    s(g, "\",\"transactions\":[");
    for (uint32_t i = 0; i < g->n_tx; i++) {
        if (i) s(g, ",");
        tx_json(g, &g->tx[i], i, hash);
    }
    s(g, "],\"transactionsRoot\":");
    if (g->n_tx) {
        hexq(g, roots[0], 32);
    } else {
        s(g, "\"");
        s(g, EMPTY_ROOT);
        s(g, "\"");
    }
    s(g, ",\"uncles\":[],\"withdrawals\":[");
    for (uint32_t i = 0; i < g->n_wd; i++) {
        const evg_wd *w = &g->wd[i];
        s(g, i ? ",{\"address\":" : "{\"address\":");
        addr(g, w->acct);
        s(g, ",\"amount\":");
        qty(g, w->gwei);
        s(g, ",\"index\":");
        qty(g, w->index);
        s(g, ",\"validatorIndex\":");
        qty(g, w->validator);
        s(g, "}");
    }
    s(g, "],\"withdrawalsRoot\":");
    hexq(g, roots[5], 32);
    s(g, "}");
}

/* The block's receipts as one JSON line of receipts.jsonl
 * (eth_getBlockReceipts' form: status, gas, logs with their bloom). */
static void write_receipts(evg *g, const uint8_t hash[32], uint8_t (*blooms)[256]) {
    line_begin(g);
    s(g, "[");
    uint64_t cum = 0;
    for (uint32_t i = 0; i < g->n_tx; i++) {
        const evg_tx *t = &g->tx[i];
        cum += t->gas_used;
        s(g, i ? ",{\"blockHash\":" : "{\"blockHash\":");
        hexq(g, hash, 32);
        s(g, ",\"blockNumber\":");
        qty(g, g->number);
        s(g, ",\"contractAddress\":");
        if (t->created != EVG_NONE && t->ok)
            addr(g, t->created);
        else
            s(g, "null");
        s(g, ",\"cumulativeGasUsed\":");
        qty(g, cum);
        s(g, ",\"effectiveGasPrice\":");
        qty(g, t->p.eff);
        s(g, ",\"from\":");
        addr(g, t->from);
        s(g, ",\"gasUsed\":");
        qty(g, t->gas_used);
        s(g, ",\"logs\":[");
        for (uint32_t k = 0; k < t->n_logs; k++) {
            uint32_t li = t->first_log + k;
            const evg_log *l = &g->log[li];
            s(g, k ? ",{\"address\":" : "{\"address\":");
            addr(g, l->contract);
            s(g, ",\"topics\":[");
            for (unsigned j = 0; j < l->n_topics; j++) {
                if (j) s(g, ",");
                hexq(g, l->topics[j], 32);
            }
            s(g, "],\"data\":");
            hexq(g, l->data, l->data_len);
            s(g, ",\"blockNumber\":");
            qty(g, g->number);
            s(g, ",\"transactionHash\":");
            hexq(g, t->hash, 32);
            s(g, ",\"transactionIndex\":");
            qty(g, i);
            s(g, ",\"blockHash\":");
            hexq(g, hash, 32);
            s(g, ",\"logIndex\":");
            qty(g, li);
            s(g, ",\"removed\":false}");
        }
        s(g, "],\"logsBloom\":");
        hexq(g, blooms[i], 256);
        s(g, t->ok ? ",\"status\":\"0x1\",\"to\":" : ",\"status\":\"0x0\",\"to\":");
        if (t->to == EVG_NONE)
            s(g, "null");
        else
            addr(g, t->to);
        s(g, ",\"transactionHash\":");
        hexq(g, t->hash, 32);
        s(g, ",\"transactionIndex\":");
        qty(g, i);
        s(g, t->p.type == 2 ? ",\"type\":\"0x2\"}" : ",\"type\":\"0x0\"}");
    }
    s(g, "]");
}

/* One callTracer frame's fields, without the closing brace (children may
 * follow). */
static void frame_open(evg *g, const char *type, uint32_t from, uint32_t to, u128 value,
                       uint64_t gas, uint64_t gas_used, uint32_t in_off, uint32_t in_len,
                       bool error) {
    s(g, "{\"from\":");
    addr(g, from);
    s(g, ",\"gas\":");
    qty(g, gas);
    s(g, ",\"gasUsed\":");
    qty(g, gas_used);
    s(g, ",\"to\":");
    addr(g, to);
    s(g, ",\"input\":");
    hexq(g, g->in + in_off, in_len);
    if (error)
        s(g, ",\"error\":\"execution reverted\"");
    else
        s(g, ",\"output\":\"0x\"");
    s(g, ",\"value\":");
    qty(g, value);
    s(g, ",\"type\":\"");
    s(g, type);
    s(g, "\"");
}

/* The block's internal calls as one JSON line of traces.jsonl
 * (debug_traceBlock's callTracer form, nested calls per tx). */
static void write_trace(evg *g) {
    line_begin(g);
    s(g, "[");
    for (uint32_t i = 0; i < g->n_tx; i++) {
        const evg_tx *t = &g->tx[i];
        s(g, i ? ",{\"txHash\":" : "{\"txHash\":");
        hexq(g, t->hash, 32);
        s(g, ",\"result\":");
        bool create = t->to == EVG_NONE;
        frame_open(g, create ? "CREATE" : "CALL", t->from, create ? t->created : t->to, t->value,
                   t->gas, t->gas_used, t->in_off, t->in_len, !t->ok);
        /* children, depth first: close frames as the depth falls back */
        bool opened[16] = {false};
        int cur = 0;
        for (uint32_t k = 0; k < t->n_calls; k++) {
            const evg_call *c = &g->call[t->first_call + k];
            int d = c->depth < 15 ? c->depth : 15;
            for (; cur >= d; cur--)
                s(g, opened[cur] ? "]}" : "}");
            s(g, opened[d - 1] ? "," : ",\"calls\":[");
            opened[d - 1] = true;
            opened[d] = false;
            frame_open(g, "CALL", c->from, c->to, c->value, c->gas, c->gas_used, c->in_off,
                       c->in_len, c->error);
            cur = d;
        }
        for (; cur >= 0; cur--)
            s(g, opened[cur] ? "]}" : "}");
        s(g, "}");
    }
    s(g, "]");
}

/* Block hash over the header's content: the number, parent, time, roots,
 * miner, base fee and gas used (not RLP, but as unique and as linked). */
static void block_hash(const evg *g, const uint8_t roots[6][32], uint64_t gas_used,
                       uint8_t out[32]) {
    uint8_t buf[8 + 32 + 8 + 64 + 20 + 16 + 8];
    size_t n = 0;
    for (int i = 0; i < 8; i++)
        buf[n++] = (uint8_t)(g->number >> (8 * i));
    memcpy(buf + n, g->parent, 32);
    n += 32;
    for (int i = 0; i < 8; i++)
        buf[n++] = (uint8_t)(g->timestamp >> (8 * i));
    memcpy(buf + n, roots[0], 64);
    n += 64;
    memcpy(buf + n, g->a[g->miner_cur].addr, 20);
    n += 20;
    for (int i = 0; i < 16; i++)
        buf[n++] = (uint8_t)(g->base_fee >> (8 * i));
    for (int i = 0; i < 8; i++)
        buf[n++] = (uint8_t)(gas_used >> (8 * i));
    ch_keccak256(buf, n, out);
}

int evg_write_block(evg *g, ch_error *err) {
    /* roots: 0 transactions, 1 receipts, 2 state, 3 mixHash, 4 beacon root,
     * 5 withdrawals */
    uint8_t roots[6][32], hash[32], bloom[256] = {0};
    uint8_t *hashes = malloc((size_t)(g->n_tx ? g->n_tx : 1) * 33);
    uint8_t(*blooms)[256] = malloc((size_t)(g->n_tx ? g->n_tx : 1) * 256);
    if (!hashes || !blooms) abort();
    uint64_t gas_used = 0;
    bool traced = false;
    for (uint32_t i = 0; i < g->n_tx; i++) {
        const evg_tx *t = &g->tx[i];
        memcpy(hashes + 33 * i, t->hash, 32);
        hashes[33 * i + 32] = t->ok;
        gas_used += t->gas_used;
        tx_bloom(g, t, blooms[i]);
        for (int k = 0; k < 256; k++)
            bloom[k] |= blooms[i][k];
        for (uint32_t k = 0; k < t->n_calls; k++)
            if (g->call[t->first_call + k].value) traced = true;
    }
    /* stand-ins for the tries: the transactions root hashes the tx hashes,
     * the receipts root the same with each status byte after its hash */
    ch_keccak256(hashes, 33 * (size_t)g->n_tx, roots[1]);
    for (uint32_t i = 0; i < g->n_tx; i++)
        memmove(hashes + 32 * i, hashes + 33 * i, 32);
    ch_keccak256(hashes, 32 * (size_t)g->n_tx, roots[0]);
    evg_bytes(&g->rng, roots[2], 32);
    evg_bytes(&g->rng, roots[3], 32);
    evg_bytes(&g->rng, roots[4], 32);
    uint8_t wbuf[MAX_WD * 44];
    for (uint32_t i = 0; i < g->n_wd; i++) {
        uint8_t *w = wbuf + 44 * i;
        for (int k = 0; k < 8; k++) {
            w[k] = (uint8_t)(g->wd[i].index >> (8 * k));
            w[8 + k] = (uint8_t)(g->wd[i].validator >> (8 * k));
            w[16 + k] = (uint8_t)(g->wd[i].gwei >> (8 * k));
        }
        memcpy(w + 24, g->a[g->wd[i].acct].addr, 20);
    }
    ch_keccak256(wbuf, 44 * (size_t)g->n_wd, roots[5]);
    block_hash(g, roots, gas_used, hash);
    free(hashes);

    write_blocks(g, hash, roots, bloom, gas_used);
    int rc = line_end(g, g->fb, err);
    if (rc == 0) {
        write_receipts(g, hash, blooms);
        rc = line_end(g, g->fr, err);
    }
    if (rc == 0 && traced) {
        write_trace(g);
        rc = line_end(g, g->ft, err);
        g->st.trace_blocks++;
    }
    free(blooms);
    memcpy(g->parent, hash, 32);
    g->st.blocks++;
    g->st.logs += g->n_log;
    for (uint32_t i = 0; i < g->n_tx; i++)
        g->st.calls += g->tx[i].n_calls;
    return rc;
}
