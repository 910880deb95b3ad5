/*
 * app/cycle_render.c: the messages of the daily cycle's allowed contacts
 * (phase 4, cycle_int.h), on the gate's workers: the consumer's name from
 * their decrypted personal data, the template's claims the gate judges, and
 * the message rendered with the script tree's channel templates
 * (lib/render.lua) and encrypted for the outbox. The plaintext is wiped as
 * soon as it is sealed.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "calendar.h"
#include "cycle_int.h"

int tm__cycle_consumer_points(const tm_keys *keys, const char *ext, const char *state,
                              const uint8_t *blob, size_t len, tm_contact_points *p,
                              struct tm_err *err)
{
    memset(p, 0, sizeof *p);
    snprintf(p->state, sizeof p->state, "%s", state ? state : "");
    if (!blob)
        return TM_OK;
    char aad[200];
    snprintf(aad, sizeof aad, "consumer:%s", ext);
    char *plain = NULL;
    size_t plen = 0;
    int rc = tm_keys_decrypt(keys, blob, len, aad, &plain, &plen, err);
    if (rc == TM_OK)
        rc = tm_contact_points_read(plain, plen, state, p, err);
    if (plain) {
        OPENSSL_cleanse(plain, plen);
        free(plain);
    }
    return rc;
}

int tm__cycle_claims(claim_cache *c, tm_sandbox *sb, const char *channel, const char *template_id,
                     const claim_entry **out, struct tm_err *err)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->e[i].channel, channel) == 0 && strcmp(c->e[i].template_id, template_id) == 0) {
            *out = &c->e[i];
            return TM_OK;
        }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        claim_entry *q = realloc(c->e, cap * sizeof *q);
        if (!q)
            return tm_err_set(err, TM_ENOMEM, "out of memory");
        c->e = q;
        c->cap = cap;
    }
    claim_entry *x = &c->e[c->n];
    memset(x, 0, sizeof *x);
    snprintf(x->channel, sizeof x->channel, "%s", channel);
    snprintf(x->template_id, sizeof x->template_id, "%s", template_id);
    int known = 0;
    int rc = tm_render_claims(sb, channel, template_id, x->names, 8, &x->n, &known, err);
    if (rc != TM_OK)
        return rc;
    c->n++;
    *out = x;
    return TM_OK;
}

void tm__cycle_claims_clear(claim_cache *c)
{
    free(c->e);
    memset(c, 0, sizeof *c);
}

/* On a worker: render an allowed row and encrypt it. A row that cannot be
 * rendered (unknown template, a disclosure with no text, an SMS past its
 * limit) fails with the reason, and no message goes out without its
 * disclosures. The payload's offer or plan (cycle_journeys.c) fills the
 * template's amounts. */
void tm__cycle_render(const tm_keys *keys, tm_sandbox *sb, const tm_work_debt *w,
                      const tm_outbox_rec *o, const tm_decision *d, const char *first,
                      const char *last, const char *to, cycle_message *m)
{
    char today[16];
    tm_date td;
    tm_calendar_days_to_date(o->send_at / DAY, &td);
    tm_calendar_format_date(td, today, sizeof today, NULL);
    const char *reqs[16];
    for (int i = 0; i < d->nrequires && i < 16; i++)
        reqs[i] = d->requires[i];
    tm_render_in in = {.channel = o->channel, .template_id = o->template_id,
                       .language = strncmp(w->language, "es", 2) == 0 ? "es" : "en",
                       .state = w->state, .zone = w->timezone, .currency = w->currency,
                       .first_name = first, .last_name = last, .debt_id = w->debt_id,
                       .creditor = w->creditor, .balance = w->balance,
                       .days_past_due = w->days_past_due, .today = today, .requires = reqs,
                       .nrequires = d->nrequires < 16 ? d->nrequires : 16};
    json_error_t je;
    json_t *pj = o->payload_owned ? json_loadb(o->payload_owned, o->payload_len, 0, &je) : NULL;
    /* Out of memory is not a message without its offer: it stops the run. */
    if (o->payload_owned && !pj && json_error_code(&je) == json_error_out_of_memory) {
        m->oom = 1;
        return;
    }
    json_t *of = json_object_get(pj, "offer"), *pl = json_object_get(pj, "plan");
    if (json_is_object(of)) {
        in.has_offer = 1;
        in.offer_amount = json_integer_value(json_object_get(of, "amount"));
        in.offer_due = json_string_value(json_object_get(of, "due"));
    }
    if (json_is_object(pl)) {
        in.has_plan = 1;
        in.plan_count = json_integer_value(json_object_get(pl, "count"));
        in.plan_amount = json_integer_value(json_object_get(pl, "amount"));
        in.plan_first_due = json_string_value(json_object_get(pl, "first_due"));
    }
    tm_rendered rd;
    struct tm_err e = {0};
    int rrc = tm_render(sb, &in, &rd, &e);
    json_decref(pj);
    if (rrc == TM_ENOMEM) {
        m->oom = 1;
        return;
    }
    if (rrc != TM_OK || rd.over_limit) {
        m->failed = 1;
        m->too_long = rrc == TM_OK;
        snprintf(m->why, sizeof m->why, "render: %.500s",
                 rrc != TM_OK ? e.msg : "the message is past its SMS segment limit");
        tm_rendered_free(&rd);
        return;
    }
    /* Every part is checked: a message missing its subject or a required
     * disclosure for want of memory must not be stored as whole. */
    json_t *mj = json_pack("{s:s, s:s, s:s, s:s}", "template", o->template_id, "language", in.language,
                          "text", rd.text, "to", to);
    int whole = mj != NULL;
    if (whole && rd.subject)
        whole = json_object_set_new(mj, "subject", json_string(rd.subject)) == 0;
    if (whole && rd.html)
        whole = json_object_set_new(mj, "html", json_string(rd.html)) == 0;
    json_t *ra = whole ? json_array() : NULL;
    whole = ra != NULL;
    for (int i = 0; whole && i < in.nrequires; i++)
        whole = json_array_append_new(ra, json_string(reqs[i])) == 0;
    if (ra && json_object_set_new(mj, "requires", ra) != 0)
        whole = 0;
    char *text = whole ? json_dumps(mj, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(mj);
    if (rd.text)
        OPENSSL_cleanse(rd.text, strlen(rd.text));
    if (rd.html)
        OPENSSL_cleanse(rd.html, strlen(rd.html));
    tm_rendered_free(&rd);
    if (!text) {
        m->oom = 1;
        return;
    }
    char aad[300];
    snprintf(aad, sizeof aad, "outbox:%s", o->key);
    if (tm_keys_encrypt(keys, text, strlen(text), aad, &m->blob, &m->blen, &e) != TM_OK) {
        m->oom = e.code == TM_ENOMEM;
        m->failed = 1;
        snprintf(m->why, sizeof m->why, "encrypt: %.500s", e.msg);
    }
    OPENSSL_cleanse(text, strlen(text));
    free(text);
}
