/* The chain stores the service reads (server_internal.h): the screener's,
 * and any other chain of the database a request names, opened as a reader
 * on first use and kept open (a store's mappings are the cheap part; its
 * read transaction is taken per request under the chain's lock). */
#include <stdio.h>
#include <string.h>

#include "server/server_internal.h"
#include "util/numparse.h"

int srv_chains_init(ch_server *s) {
    if (pthread_mutex_init(&s->chains_mu, NULL) != 0) return -1;
    srv_chain *c = &s->chains[0];
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", ch_screener_chain(s->screener));
    c->st = ch_screener_store(s->screener);
    c->mu = &s->store_mu;
    c->last_refresh = srv_now();
    s->n_chains = 1;
    return 0;
}

void srv_chains_close(ch_server *s) {
    for (size_t i = 1; i < s->n_chains; i++) {
        srv_chain *c = &s->chains[i];
        if (c->owned) ch_store_close(c->st);
        pthread_mutex_destroy(&c->own_mu);
    }
    s->n_chains = 0;
    pthread_mutex_destroy(&s->chains_mu);
}

srv_chain *srv_chain_named(ch_server *s, const char *name, srv_reply *r) {
    pthread_mutex_lock(&s->chains_mu);
    srv_chain *found = NULL;
    for (size_t i = 0; i < s->n_chains && !found; i++)
        if (!strcmp(s->chains[i].name, name)) found = &s->chains[i];
    if (found || !s->opts.db) {
        pthread_mutex_unlock(&s->chains_mu);
        if (found && found->st) return found;
        srv_reply_error(r, 404,
                        s->opts.db ? "no chain store '%s' in the database served"
                                   : "no database is served (a screening set is): "
                                     "no chain '%s' to read",
                        name);
        return NULL;
    }
    if (s->n_chains == SRV_MAX_CHAINS) {
        pthread_mutex_unlock(&s->chains_mu);
        srv_reply_error(r, 404, "no chain store '%s': at most %d chains are served", name,
                        SRV_MAX_CHAINS);
        return NULL;
    }
    ch_store *st;
    ch_error err;
    if (ch_store_open(s->opts.db, name, CH_STORE_READ, &st, &err) != 0) {
        pthread_mutex_unlock(&s->chains_mu);
        srv_reply_error(r, 404, "no chain store '%s' in the database served: %s", name, err.msg);
        return NULL;
    }
    srv_chain *c = &s->chains[s->n_chains];
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", name);
    c->st = st;
    c->owned = true;
    pthread_mutex_init(&c->own_mu, NULL);
    c->mu = &c->own_mu;
    c->last_refresh = srv_now();
    s->n_chains++; /* published after it is whole: readers scan under chains_mu */
    pthread_mutex_unlock(&s->chains_mu);
    return c;
}

srv_chain *srv_chain_pick(ch_server *s, const srv_req *q, int want_account, srv_reply *r) {
    const char *name = srv_arg(q, "chain");
    if (name) {
        if (!ch_store_name_ok(name)) {
            srv_reply_error(r, 400, "chain: '%.64s' is no chain name (letters, digits, '-')", name);
            return NULL;
        }
    } else {
        const srv_chain *c0 = &s->chains[0];
        bool c0_account = c0->st && ch_store_is_account(c0->st);
        if (c0->st && (want_account < 0 || want_account == (int)c0_account))
            name = c0->name;
        else
            name = want_account == 1 ? "eth" : "btc";
    }
    return srv_chain_named(s, name, r);
}

/* c's store moved to its latest commit: the screener's through the
 * screener (which takes a cluster file built again and drops what it worked
 * out from the old one: never a door's own refresh of the library's state),
 * any other chain's as a store. */
static int chain_refresh(ch_server *s, const srv_chain *c, ch_error *err) {
    if (c->st == ch_screener_store(s->screener)) return ch_screener_refresh(s->screener, err);
    return ch_store_refresh(c->st, err);
}

bool srv_chain_enter(ch_server *s, srv_chain *c) {
    pthread_mutex_lock(c->mu);
    double now = srv_now();
    if (!c->broken && now - c->last_refresh >= s->opts.refresh_ms / 1000.0) {
        ch_error err;
        if (chain_refresh(s, c, &err) < 0) {
            fprintf(stderr, "coinhound serve: the chain store %s failed to refresh: %s\n", c->name,
                    err.msg);
            c->broken = true;
        }
        c->last_refresh = now;
    }
    if (c->broken) {
        pthread_mutex_unlock(c->mu);
        return false;
    }
    return true;
}

void srv_chain_leave(srv_chain *c) {
    pthread_mutex_unlock(c->mu);
}
