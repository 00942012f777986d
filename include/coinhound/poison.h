/* coinhound: address poisoning (the people's safeguard).
 *
 * Tsuchiya et al., "Blockchain Address Poisoning" (USENIX Security 2025), and
 * Guan and Li (CCS 2024): after a victim V pays a counterparty C, an attacker
 * puts into V's history a transfer involving a vanity address L whose first
 * and last hex characters match C's, hoping V copies L from the history the
 * next time. The transfer that carries L is one of:
 *   - a zero-value token Transfer the attacker's bot triggers with
 *     transferFrom (the event's sender is not the tx's sender: the store's
 *     CH_XFER_ZERO_SPOOF flag), shown either as V -> L or as L -> V;
 *   - a dust transfer L -> V (native below 1e-6 ETH by default; a token
 *     below 0.01 unit, when its decimals are known; a zero-value token
 *     transfer);
 *   - a transfer L -> V of a fake token whose symbol copies a well-known
 *     token's (USDT, USDC, ...) while its contract is not one the reference
 *     token table lists under that symbol.
 *
 * The detector runs at ingest when the caller asks for it (ingest runs no
 * analysis of its own: pass ch_poison_ingest_block as ch_ingest_opts.on_block
 * with a detector as its context), once per appended block, over the
 * block's transfers, and records ch_signal_rec rows in the store's notes on
 * transfers (ch_xfer_note, store.h), committed with the block. What it finds
 * depends on the detector's options and token tables only, never on the
 * environment: a front door that reads COINHOUND_TOKENS decides that itself.
 * Per suspicious transfer it records:
 *   - ZERO_SPOOF, DUST or FAKE_TOKEN (each that applies): victim V,
 *     lookalike L (for FAKE_TOKEN: the fake token's contract), imitated: the
 *     real counterparty C when L matches one (for FAKE_TOKEN: the genuine
 *     token's contract when the store knows it), else 0; prefix/suffix: the
 *     hex characters L shares with C (0 when no C);
 *   - LOOKALIKE, in addition, when L shares at least 4 leading and 4
 *     trailing hex characters with a real counterparty C != L of V: an
 *     address V sent value to or received value from earlier through a
 *     transfer that is not itself suspicious, found by walking V's history
 *     backward (a bounded number of transfers). The best match (most shared
 *     characters, then the most recent) is kept.
 * A zero-value spoof is tried both ways (V = the event's sender and L its
 * recipient, and the reverse); the way with a match wins, else V = sender
 * (transferFrom(victim, lookalike, 0), the common form).
 * Transfers of failed txs, mints (no sender), fees, rewards, withdrawals and
 * NFTs carry no signal.
 *
 * Token tables are CSV files with a header naming at least `address` and
 * `symbol`, optionally `decimals` and `chainId` (or `chain_id`; rows of
 * other chains are skipped): ../shared/fixtures/eth/erc20-tokens.csv
 * (Etherscan's token list) is a reference table, the generator's tokens.csv
 * a metadata table. A reference ("trusted") table says which contracts are
 * genuine; a metadata table only says what tokens call themselves (a fake
 * USDT calls itself USDT). Without any table no FAKE_TOKEN is found and only
 * zero-value token transfers count as token dust. */
#ifndef COINHOUND_POISON_H
#define COINHOUND_POISON_H

#include <stdbool.h>
#include <stdint.h>

#include "coinhound/error.h"
#include "coinhound/store.h"
#include "coinhound/tokens.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the signal records ---- */
typedef enum ch_signal_kind {
    CH_SIG_ZERO_SPOOF = 1, /* zero-value token event whose sender is not the tx's sender */
    CH_SIG_DUST,           /* a transfer too small to be a payment */
    CH_SIG_FAKE_TOKEN,     /* a token imitating a known token's symbol */
    CH_SIG_LOOKALIKE,      /* the sender imitates a real counterparty of the victim */
} ch_signal_kind;

/* One signal: a ch_xfer_note of the store (same size, xfer first), the
 * safeguard's reading of its body. */
typedef struct ch_signal_rec {
    uint64_t xfer;        /* the transfer that carries the signal */
    ch_addr_id victim;    /* address id of the account targeted */
    ch_addr_id lookalike; /* address id of the imitating sender (or token) */
    ch_addr_id imitated;  /* the real counterparty (or token) it imitates, 0 if none */
    uint8_t kind;         /* ch_signal_kind */
    uint8_t prefix;       /* leading hex characters shared with the imitated address */
    uint8_t suffix;       /* trailing hex characters shared */
    uint8_t pad;
    uint32_t pad2;
} ch_signal_rec;

CH_STATIC_ASSERT(sizeof(ch_signal_rec) == sizeof(ch_xfer_note), "a signal is one note");

/* The signals a store holds (committed and pending), and signal i (i <
 * count), in transfer order. */
uint64_t ch_poison_signal_count(const ch_store *s);
const ch_signal_rec *ch_poison_signal(const ch_store *s, uint64_t i);
/* The index of the first signal on transfer x or after it (count when
 * none): a binary search, as signals are appended in transfer order. */
uint64_t ch_poison_signal_from(const ch_store *s, uint64_t x);

/* ---- the detector ---- */
typedef struct ch_poison_opts {
    const char *tokens_path;         /* reference table ($COINHOUND_TOKENS), or NULL */
    const char *token_meta_path;     /* metadata table ($COINHOUND_TOKEN_META), or NULL */
    uint64_t chain_id;               /* default 1 */
    uint64_t native_dust_wei;        /* dust below this; default 10^12 (1e-6 ETH) */
    unsigned min_prefix, min_suffix; /* LOOKALIKE: default 4 and 4 hex characters */
    unsigned history;                /* transfers of V walked back; default 512 */
} ch_poison_opts;

typedef struct ch_poison ch_poison;

/* o may be NULL (defaults); zero fields take their defaults. */
int ch_poison_new(const ch_poison_opts *o, ch_poison **out, ch_error *err);
void ch_poison_free(ch_poison *p);
/* The detector's token table (to add tokens by hand). */
ch_toktab *ch_poison_tokens(ch_poison *p);

/* Record the signals of transfers [first, ch_store_xfer_count(s)) of a store
 * opened for writing (the block just appended, before its commit). */
int ch_poison_scan(ch_poison *p, ch_store *s, uint64_t first, ch_error *err);

/* The ingest pass (a ch_ingest_block_hook, ingest.h): scan the last appended
 * block of s with the detector `detector` (a ch_poison *, not NULL). Set
 * ch_ingest_opts.on_block to it and on_block_ctx to the detector; the caller
 * keeps the detector and frees it after the ingest. */
int ch_poison_ingest_block(void *detector, ch_store *s, ch_error *err);

/* ---- pieces the queries and tests share ---- */
/* Leading and trailing hex characters two 20-byte addresses share (0..40). */
void ch_poison_match(const uint8_t a[20], const uint8_t b[20], unsigned *prefix, unsigned *suffix);
/* Whether transfer r is suspicious (a poisoning carrier): a mask of
 * (1u << ch_signal_kind) over ZERO_SPOOF, DUST and FAKE_TOKEN. */
unsigned ch_poison_classify(ch_poison *p, const ch_store *s, const ch_xfer_rec *r);
/* "zero_spoof", "dust", "fake_token", "lookalike". */
const char *ch_signal_kind_name(int kind);

/* ---- the pre-send check ---- */
typedef enum ch_send_verdict {
    CH_SEND_OK = 0,
    CH_SEND_FIRST_VIA_SIGNAL, /* dest first reached sender through a poisoning transfer */
    CH_SEND_LOOKALIKE,        /* dest shares both ends with a real counterparty, is not it */
} ch_send_verdict;

typedef struct ch_send_check {
    ch_send_verdict verdict; /* the first reason found, OK when none */
    bool first_via_signal, lookalike;
    bool sender_known;   /* the sender has a history in the store */
    bool dest_known;     /* dest appears in the sender's history */
    bool dest_paid;      /* the sender sent dest value through a clean transfer */
    uint64_t first_xfer; /* dest's first transfer with the sender (dest_known) */
    int first_kind;      /* the signal kind it carried (first_via_signal) */
    ch_addr_id imitated; /* the real counterparty dest resembles (lookalike) */
    unsigned prefix, suffix;
    uint64_t walked; /* transfers of the sender looked at */
} ch_send_check;

/* Check a payment sender -> dest on a store with nothing pending (dest need
 * not be in the store: a fresh lookalike is still one). p supplies the
 * thresholds and token tables (NULL: defaults). */
int ch_poison_check_send(ch_poison *p, ch_store *s, const ch_addr *sender, const ch_addr *dest,
                         ch_send_check *out, ch_error *err);

#ifdef __cplusplus
}
#endif

#endif
