/* What an alert says about why: the reason naming a rule, and the
 * attribution rules (entity, actor, category) against one address, where one
 * lookup in the attribution store answers every such rule, for the account
 * (eval.c) and the Bitcoin (eval_btc.c) evaluators alike. */
#include <stdio.h>
#include <strings.h>

#include "watch/watch_internal.h"

bool watch_rule_is_attr(const ch_watch_rule *r) {
    return r->kind == CH_WATCH_ENTITY || r->kind == CH_WATCH_ACTOR || r->kind == CH_WATCH_CATEGORY;
}

/* Rule r's reason for attribution a of the address shown as text, or NULL
 * when none of r's values is a's entity, actor (or its country) or
 * category, or a is delisted and r does not include those. */
static json_t *attr_reason(const ch_watch_rule *r, const ch_attribution *a, const char *text) {
    if (a->delisted && !r->include_delisted) return NULL;
    for (size_t i = 0; i < r->n_values; i++) {
        const char *want = r->values[i], *field = "", *got = "";
        bool hit = false;
        if (r->kind == CH_WATCH_ENTITY) {
            hit = !strcasecmp(a->entity, want), field = "entity", got = a->entity;
        } else if (r->kind == CH_WATCH_CATEGORY) {
            hit = !strcasecmp(a->category, want), field = "category", got = a->category;
        } else if (r->kind == CH_WATCH_ACTOR) {
            field = "actor", got = a->actor;
            hit = !strcasecmp(a->actor, want);
            if (!hit && a->actor_country[0] && !strcasecmp(a->actor_country, want))
                hit = true, field = "actor country", got = a->actor_country;
        }
        if (!hit) continue;
        char why[600];
        snprintf(why, sizeof why, "%s is attributed to %s%s%s (%s %s)%s", text,
                 a->entity[0] ? a->entity : "an unnamed holder", a->category[0] ? ", " : "",
                 a->category, field, got, a->delisted ? " [delisted by its source]" : "");
        json_t *reason =
            json_pack("{s:s,s:s}", "source", a->source_name[0] ? a->source_name : "?", "why", why);
        if (a->source_url[0]) json_object_set_new(reason, "url", json_string(a->source_url));
        if (a->source_date[0]) json_object_set_new(reason, "date", json_string(a->source_date));
        return reason;
    }
    return NULL;
}

typedef struct attr_ctx {
    const ch_watch_rules *rules;
    const char *text;
    json_t **reasons;
} attr_ctx;

static int on_attr(const ch_attribution *a, void *vctx) {
    attr_ctx *c = vctx;
    for (size_t i = 0; i < c->rules->n; i++) {
        const ch_watch_rule *r = &c->rules->v[i];
        if (!watch_rule_is_attr(r)) continue;
        json_t *reason = attr_reason(r, a, c->text);
        if (!reason) continue;
        if (!c->reasons[i]) c->reasons[i] = json_array();
        json_array_append_new(c->reasons[i], reason);
    }
    return 0;
}

int watch_attr_match(ch_intel *intel, const ch_watch_rules *rules, const char *text,
                     const char *asset, json_t **reasons, ch_error *err) {
    char canon[128];
    if (ch_intel_canonical(text, asset, canon, NULL) != 0) return 0;
    attr_ctx c = {.rules = rules, .text = text, .reasons = reasons};
    return ch_intel_lookup(intel, canon, on_attr, &c, err) < 0 ? -1 : 0;
}

void watch_attr_clear(json_t **reasons, size_t n) {
    for (size_t i = 0; i < n; i++) {
        json_decref(reasons[i]);
        reasons[i] = NULL;
    }
}

int watch_rule_reason(json_t *reasons, const ch_watch_rules *rs, const ch_watch_rule *r,
                      const char *why) {
    char src[400];
    snprintf(src, sizeof src, "rule %s (%s line %u)", r->name, rs->source, r->line);
    return json_array_append_new(reasons, json_pack("{s:s,s:s}", "source", src, "why", why));
}
