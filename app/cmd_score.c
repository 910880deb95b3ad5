/*
 * app/cmd_score.c: `tallyman score train`: fits a propensity model (a
 * logistic scorecard, core/train.h) from the outcomes in the store and
 * writes it as a model file that scripts load with tm.score.
 *
 * The features are the debt as placed and its history up to --as-of; the
 * outcome is whether any payment arrived in the --days after it. The feature
 * names here are the ones a script passes to tm.score (strategies.md).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "calendar.h"
#include "cli.h"
#include "contact_model.h"
#include "crypto.h"
#include "store.h"
#include "train.h"
#include "tz.h"
#include "validate.h"

enum { F_DPD, F_BALANCE, F_SINCE_PAY, F_SINCE_CO, F_PAYS, F_PAYS_90, F_CONTACTS, F_PROMISES,
       F_RPC, F_BROKEN, F_REPLIES, F_NUM };
enum { C_TYPE, C_STATE, C_OUTCOME, C_NUM };

static const struct {
    const char *name, *label;
} num_features[F_NUM] = {
    {"days_past_due", "days past due"},
    {"balance", "balance"},
    {"days_since_last_payment", "days since the last payment"},
    {"days_since_charge_off", "days since charge-off"},
    {"payments_before", "earlier payments"},
    {"payments_last_90_days", "payments in the last 90 days"},
    {"contacts_before", "earlier contacts"},
    {"promises_before", "earlier promises"},
    {"right_party_contacts_before", "earlier contacts that reached the consumer"},
    {"broken_promises_before", "earlier broken promises"},
    {"replies_before", "earlier replies from the consumer"},
}, cat_features[C_NUM] = {
    {"debt_type", "debt type"},
    {"state", "state"},
    {"last_contact_outcome", "outcome of the last contact"},
};

typedef struct train_ctx {
    tm_train_set *set;
    int64_t as_of_days;
    int64_t max_dpd; /* -1: every debt */
    uint64_t rows, skipped, positives;
    struct tm_err err;
    int tty;
} train_ctx;

/* Days from `date` (YYYY-MM-DD, "" unknown) to the as-of day; NaN when unknown. */
static double days_since(const char *date, int64_t as_of_days)
{
    int64_t d;
    if (!date[0] || tm_valid_date(date, &d, NULL) != TM_OK)
        return (double)NAN;
    return (double)(as_of_days - d);
}

static uint64_t split_key(const char *debt_id)
{
    uint8_t h[32];
    tm_sha256(debt_id, strlen(debt_id), h);
    uint64_t k = 0;
    for (int i = 0; i < 8; i++)
        k = k << 8 | h[i];
    return k;
}

static int on_row(void *ud, const tm_training_row *r)
{
    train_ctx *x = ud;
    if (x->max_dpd >= 0 && (r->days_past_due < 0 || r->days_past_due > x->max_dpd)) {
        x->skipped++;
        return TM_OK;
    }
    int exp = 2;
    if (tm_valid_currency(r->currency, &exp, NULL) != TM_OK)
        exp = 2;
    double scale = 1;
    for (int i = 0; i < exp; i++)
        scale *= 10;
    double num[F_NUM];
    num[F_DPD] = r->days_past_due < 0 ? (double)NAN : (double)r->days_past_due;
    num[F_BALANCE] = (double)r->placed_balance / scale;
    num[F_SINCE_PAY] = days_since(r->last_payment_date, x->as_of_days);
    num[F_SINCE_CO] = days_since(r->charge_off_date, x->as_of_days);
    num[F_PAYS] = (double)r->payments_before;
    num[F_PAYS_90] = (double)r->payments_90d;
    num[F_CONTACTS] = (double)r->contacts_before;
    num[F_PROMISES] = (double)r->promises_before;
    num[F_RPC] = (double)r->right_party_before;
    num[F_BROKEN] = (double)r->broken_promises_before;
    num[F_REPLIES] = (double)r->replies_before;
    const char *cat[C_NUM] = {r->debt_type[0] ? r->debt_type : NULL, r->state[0] ? r->state : NULL,
                              r->last_outcome[0] ? r->last_outcome : NULL};
    int rc = tm_train_add_row(x->set, num, cat, r->paid ? 1 : 0, split_key(r->debt_id), &x->err);
    if (rc != TM_OK)
        return rc;
    x->rows++;
    x->positives += r->paid ? 1 : 0;
    if (x->tty && x->rows % 50000 == 0)
        fprintf(stderr, "\r\033[Kreading the store: %llu debts", (unsigned long long)x->rows);
    return TM_OK;
}

static int usage(int to_stdout)
{
    fprintf(to_stdout ? stdout : stderr,
            "usage: tallyman [--db PATH] score train --out FILE [options]\n"
            "\n"
            "Fits a propensity-to-pay scorecard (logistic regression on binned features)\n"
            "from the store: features are each debt as placed and its history up to\n"
            "--as-of; the outcome is whether a payment arrived in the --days after it.\n"
            "Rows are split into training and holdout by a hash of the debt id; the\n"
            "model file carries its validation figures (AUC, calibration by decile).\n"
            "\n"
            "  --out FILE       where to write the model (e.g. scripts/models/ptp.json)\n"
            "  --as-of DATE     the observation day, YYYY-MM-DD (default: today, UTC)\n"
            "  --days N         outcome window in days (default 60)\n"
            "  --name NAME      the model's name (default: the file name without .json)\n"
            "  --max-dpd N      only debts at most N days past due (e.g. a self-cure model)\n"
            "  --bins N         bins per numeric feature, 2..20 (default 5)\n"
            "  --l2 X           ridge penalty (default 1.0)\n"
            "  --holdout F      holdout fraction, 0.05..0.9 (default 0.3)\n");
    return to_stdout ? TM_EXIT_OK : TM_EXIT_USAGE;
}

static int write_file_atomic(const char *path, const char *text, struct tm_err *err)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return tm_err_set(err, TM_EIO, "%s: %s", tmp, strerror(errno));
    int ok = fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        remove(tmp);
        return tm_err_set(err, TM_EIO, "%s: cannot write: %s", path, strerror(errno));
    }
    return TM_OK;
}

/* The options `score train` and `score train-contact` share: --out FILE,
 * --name NAME, --as-of DATE. Returns -1 when `a` is none of them, 0 when it
 * was taken, or the usage error's exit code. */
static int common_option(const char *a, const char *v, const char **out, const char **name,
                         int64_t *as_of_days)
{
    if (strcmp(a, "--out") == 0) {
        *out = v;
    } else if (strcmp(a, "--name") == 0) {
        *name = v;
    } else if (strcmp(a, "--as-of") == 0) {
        struct tm_err e = {0};
        if (tm_valid_date(v, as_of_days, &e) != TM_OK)
            return tm_cli_usage_error("score", "--as-of: %s", e.msg);
    } else {
        return -1;
    }
    return 0;
}

static int cmd_train(tm_cli *cli)
{
    const char *out = NULL, *name = NULL;
    int64_t as_of_days = (int64_t)time(NULL) / 86400;
    uint64_t days = 60, bins = 5;
    int64_t max_dpd = -1;
    double l2 = 1.0, holdout = 0.3;
    for (int i = 2; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        const char *v = i + 1 < cli->argc ? cli->argv[i + 1] : NULL;
        uint64_t u;
        char *end;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return usage(1);
        if (v == NULL)
            return tm_cli_usage_error("score", "unknown option or missing value '%s'", a);
        i++;
        int common = common_option(a, v, &out, &name, &as_of_days);
        if (common >= 0) {
            if (common > 0)
                return common;
        } else if (strcmp(a, "--days") == 0) {
            if (tm_cli_parse_u64(v, 3660, &days) != 0 || days == 0)
                return tm_cli_usage_error("score", "--days needs a number of days, 1..3660");
        } else if (strcmp(a, "--max-dpd") == 0) {
            if (tm_cli_parse_u64(v, 100000, &u) != 0)
                return tm_cli_usage_error("score", "--max-dpd needs a whole number of days");
            max_dpd = (int64_t)u;
        } else if (strcmp(a, "--bins") == 0) {
            if (tm_cli_parse_u64(v, 20, &bins) != 0 || bins < 2)
                return tm_cli_usage_error("score", "--bins needs a number from 2 to 20");
        } else if (strcmp(a, "--l2") == 0) {
            l2 = strtod(v, &end);
            if (end == v || *end || !(l2 > 0 && l2 <= 1e6))
                return tm_cli_usage_error("score", "--l2 needs a number above 0, at most 1000000");
        } else if (strcmp(a, "--holdout") == 0) {
            holdout = strtod(v, &end);
            if (end == v || *end || !(holdout >= 0.05 && holdout <= 0.9))
                return tm_cli_usage_error("score", "--holdout needs a fraction from 0.05 to 0.9");
        } else {
            return tm_cli_usage_error("score", "unknown option '%s'", a);
        }
    }
    if (out == NULL)
        return tm_cli_usage_error("score", "train needs --out FILE");
    char stem[128];
    if (name == NULL) {
        const char *base = strrchr(out, '/');
        base = base ? base + 1 : out;
        size_t n = strlen(base);
        if (n > 5 && strcmp(base + n - 5, ".json") == 0)
            n -= 5;
        snprintf(stem, sizeof stem, "%.*s", (int)(n < sizeof stem ? n : sizeof stem - 1), base);
        name = stem;
    }
    if (!tm_cli_store_exists(cli, "import accounts and events"))
        return TM_EXIT_FAIL;
    tm_store *s = NULL;
    struct tm_err e = {0};
    if (tm_store_open(cli->db, &s, &e) != TM_OK) {
        fprintf(stderr, "tallyman: %s\n", e.msg);
        return TM_EXIT_FAIL;
    }
    train_ctx x = {.as_of_days = as_of_days, .max_dpd = max_dpd, .tty = isatty(2)};
    x.set = tm_train_set_new();
    int exit_code = TM_EXIT_FAIL;
    char *json = NULL;
    if (x.set == NULL) {
        fprintf(stderr, "tallyman: out of memory\n");
        goto done;
    }
    for (int i = 0; i < F_NUM; i++)
        if (tm_train_add_numeric(x.set, num_features[i].name, num_features[i].label, &e) != TM_OK)
            goto fail;
    for (int i = 0; i < C_NUM; i++)
        if (tm_train_add_categorical(x.set, cat_features[i].name, cat_features[i].label, &e) !=
            TM_OK)
            goto fail;
    /* The window is (as-of day end, as-of day end + days]. */
    int64_t from = (as_of_days + 1) * 86400, to = from + (int64_t)days * 86400;
    int rc = tm_store_scan_training(s, from, to, on_row, &x, &e);
    if (x.tty)
        fputs("\r\033[K", stderr);
    if (rc != TM_OK) {
        if (x.err.msg[0])
            e = x.err;
        goto fail;
    }
    if (x.rows == 0) {
        fprintf(stderr, "tallyman: no debts to train on in %s%s\n", cli->db,
                max_dpd >= 0 ? " within --max-dpd" : "");
        goto done;
    }
    tm_train_opts opts = {.name = name, .bins = (int)bins, .l2 = l2, .holdout = holdout};
    tm_train_report rep;
    memset(&rep, 0, sizeof rep);
    if (tm_train_fit(x.set, &opts, &json, &rep, &e) != TM_OK)
        goto fail;
    if (write_file_atomic(out, json, &e) != TM_OK)
        goto fail;
    char asof[16];
    tm_date d;
    tm_calendar_days_to_date(as_of_days, &d);
    tm_calendar_format_date(d, asof, sizeof asof, NULL);
    printf("model %s written to %s\n", name, out);
    printf("as of %s, outcome: any payment within %llu days\n", asof, (unsigned long long)days);
    printf("debts: %llu (%llu paid, %.1f%%), %llu left out by --max-dpd\n",
           (unsigned long long)x.rows, (unsigned long long)x.positives,
           100.0 * (double)x.positives / (double)x.rows, (unsigned long long)x.skipped);
    printf("training: %zu rows, holdout: %zu rows; %d iterations%s\n", rep.n_train, rep.n_test,
           rep.iterations, rep.converged ? "" : " (did not converge)");
    printf("AUC: training %.4f, holdout %.4f\n", rep.auc_train, rep.auc_test);
    printf("calibration on the holdout, by decile of predicted probability:\n");
    printf("  decile   rows  predicted  observed\n");
    for (int i = 0; i < 10; i++)
        printf("  %6d %6zu  %9.4f  %8.4f\n", i + 1, rep.calib_n[i], rep.calib_pred[i],
               rep.calib_obs[i]);
    exit_code = TM_EXIT_OK;
    goto done;
fail:
    fprintf(stderr, "tallyman: %s\n", e.msg);
done:
    free(json);
    tm_train_set_free(x.set);
    tm_store_close(s);
    return exit_code;
}

/* ---- score train-contact ---------------------------------------------------------------- */

static int usage_contact(int to_stdout)
{
    fprintf(to_stdout ? stdout : stderr,
            "usage: tallyman [--db PATH] score train-contact --out FILE [options]\n"
            "\n"
            "Fits the contact-time and channel model from the store's outbound contacts:\n"
            "per channel and local hour of the week, the probability of a right-party\n"
            "contact and of a payment within --pay-days, for the portfolio, each debt type\n"
            "and each consumer, shrunk towards the level above where history is thin\n"
            "(strategies.md, \"Learning the channel and the hour\"). Journeys ask it with\n"
            "j:best_slot. Write it into the script tree (models/contact.json) and activate\n"
            "the set, as for `score train`.\n"
            "\n"
            "  --out FILE       where to write the model (e.g. scripts/models/contact.json)\n"
            "  --as-of DATE     contacts whose --pay-days window ended by this day count\n"
            "                   (YYYY-MM-DD, default: today, UTC)\n"
            "  --pay-days N     payment window after a contact, 1..90 days (default 7)\n"
            "  --name NAME      the model's name (default: the file name without .json)\n");
    return to_stdout ? TM_EXIT_OK : TM_EXIT_USAGE;
}

typedef struct contact_ctx {
    tm_cm_builder *b;
    uint64_t rows;
    int tty;
} contact_ctx;

static int on_contact(void *ud, const tm_contact_outcome_row *r)
{
    contact_ctx *x = ud;
    const char *zone = r->zone;
    if (!zone[0]) {
        const char *const *zs = tm_tz_state_zones(r->state);
        zone = zs && zs[0] ? zs[0] : NULL;
    }
    struct tm_err e = {0};
    int how = tm_cm_hour_of_week(zone, r->at);
    int rc = tm_cm_builder_add(x->b, r->debt_id, r->consumer, r->debt_type, r->channel, how, r->rpc,
                               r->paid, &e);
    if (rc == TM_EINVAL)
        return TM_OK; /* a channel the model has no place for (none today): not counted */
    x->rows++;
    if (x->tty && x->rows % 100000 == 0)
        fprintf(stderr, "\r\033[Kreading the store: %llu contacts", (unsigned long long)x->rows);
    return rc;
}

static int cmd_train_contact(tm_cli *cli)
{
    const char *out = NULL, *name = NULL;
    int64_t as_of_days = (int64_t)time(NULL) / 86400;
    uint64_t pay_days = 7;
    for (int i = 2; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        const char *v = i + 1 < cli->argc ? cli->argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return usage_contact(1);
        if (v == NULL)
            return tm_cli_usage_error("score", "unknown option or missing value '%s'", a);
        i++;
        int common = common_option(a, v, &out, &name, &as_of_days);
        if (common >= 0) {
            if (common > 0)
                return common;
        } else if (strcmp(a, "--pay-days") == 0) {
            if (tm_cli_parse_u64(v, 90, &pay_days) != 0 || pay_days == 0)
                return tm_cli_usage_error("score", "--pay-days needs a number of days, 1..90");
        } else {
            return tm_cli_usage_error("score", "unknown option '%s'", a);
        }
    }
    if (out == NULL)
        return tm_cli_usage_error("score", "train-contact needs --out FILE");
    char stem[128];
    if (name == NULL) {
        const char *base = strrchr(out, '/');
        base = base ? base + 1 : out;
        size_t n = strlen(base);
        if (n > 5 && strcmp(base + n - 5, ".json") == 0)
            n -= 5;
        snprintf(stem, sizeof stem, "%.*s", (int)(n < sizeof stem ? n : sizeof stem - 1), base);
        name = stem;
    }
    if (!name[0] || strlen(name) > 127)
        return tm_cli_usage_error("score", "--name needs 1 to 127 bytes");
    if (!tm_cli_store_exists(cli, "import accounts and events"))
        return TM_EXIT_FAIL;
    tm_store *s = NULL;
    struct tm_err e = {0};
    if (tm_store_open(cli->db, &s, &e) != TM_OK) {
        fprintf(stderr, "tallyman: %s\n", e.msg);
        return TM_EXIT_FAIL;
    }
    contact_ctx x = {.b = tm_cm_builder_new(), .tty = isatty(2)};
    int code = TM_EXIT_FAIL;
    char *json = NULL;
    char asof[16];
    tm_date d;
    tm_calendar_days_to_date(as_of_days, &d);
    tm_calendar_format_date(d, asof, sizeof asof, NULL);
    if (x.b == NULL) {
        fprintf(stderr, "tallyman: out of memory\n");
        goto done;
    }
    /* A contact counts once its payment window has closed by the end of the as-of day. */
    int rc = tm_store_scan_contact_outcomes(s, (as_of_days + 1) * 86400, (int)pay_days, on_contact,
                                            &x, &e);
    if (x.tty)
        fputs("\r\033[K", stderr);
    tm_cm_report rep;
    if (rc == TM_OK)
        rc = tm_cm_fit(x.b, name, asof, (int)pay_days, &json, &rep, &e);
    if (rc == TM_OK)
        rc = write_file_atomic(out, json, &e);
    if (rc != TM_OK) {
        fprintf(stderr, "tallyman: %s%s\n", e.msg,
                rc == TM_EINVAL && tm_cm_builder_count(x.b) < TM_CM_MIN_CONTACTS
                    ? ": nothing written; journeys that ask for the best slot use their fixed "
                      "times until there is a model"
                    : "");
        goto done;
    }
    printf("contact model %s written to %s\n", name, out);
    printf("as of %s: %zu outbound contacts of %zu consumers, payment window %llu days\n", asof,
           rep.contacts, rep.consumers, (unsigned long long)pay_days);
    printf("right-party contact rate %.4f, payment rate %.4f\n", rep.rate[TM_CM_RPC],
           rep.rate[TM_CM_PAY]);
    printf("segments (debt types) fitted: %zu\n", rep.segments_fitted);
    if (rep.segments_pooled)
        printf("segments with too little history (under %d contacts), which use the "
               "portfolio's rates: %s\n",
               TM_CM_MIN_SEGMENT, rep.pooled);
    printf("consumer prior strength: right-party %.2f, payment %.2f\n",
           rep.kappa_consumer[TM_CM_RPC], rep.kappa_consumer[TM_CM_PAY]);
    code = TM_EXIT_OK;
done:
    free(json);
    tm_cm_builder_free(x.b);
    tm_store_close(s);
    return code;
}

int tm_cmd_score(tm_cli *cli)
{
    const char *what = cli->argc >= 2 ? cli->argv[1] : "";
    if (strcmp(what, "--help") == 0 || strcmp(what, "-h") == 0)
        return usage(1);
    if (!*what)
        return usage(0);
    if (strcmp(what, "train") == 0)
        return cmd_train(cli);
    if (strcmp(what, "train-contact") == 0)
        return cmd_train_contact(cli);
    return tm_cli_usage_error("score", "unknown score command '%s' (try: score train, score "
                                       "train-contact)", what);
}
