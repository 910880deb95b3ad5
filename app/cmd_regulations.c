/*
 * app/cmd_regulations.c: `tallyman regulations table [--state XX] [--csv]`
 * (CONTRACT.md, "Explaining"): every rule of the regulation library as one
 * row (jurisdiction, rule, what it limits, the number, the citation, whether
 * its text was verified, what could not be, the interpretation chosen), and
 * for a jurisdiction that adds no contact rule a row saying so with the
 * statute checked, so counsel can review the whole library at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "engine.h"
#include "gate.h"

static const char regulations_help[] =
    "usage: tallyman [--scripts DIR] regulations table [--state XX] [--csv]\n"
    "\n"
    "Prints every rule of the regulations and creditor policies as a row:\n"
    "jurisdiction, rule, what it limits, the number, the citation, whether the\n"
    "law's text was verified (yes, no, or blank when the script does not say),\n"
    "what could not be verified, and the interpretation chosen. A state or DC\n"
    "that adds no contact rule beyond federal law has a row saying so, naming\n"
    "the statute checked.\n"
    "\n"
    "  --state XX   only the regulations of state XX (USPS code) and its cities\n"
    "  --csv        comma-separated values with a header row, for a spreadsheet\n";

enum { COL_JURIS, COL_RULE, COL_LIMITS, COL_NUMBER, COL_CITE, COL_VERIFIED, COL_MISSING, COL_INTERP,
       NCOLS };
static const char *const col_names[NCOLS] = {"jurisdiction", "rule", "limits", "number",
                                              "citation", "verified", "missing", "interpretation"};

/* Appends the names of the bits of `mask` from `names` to buf, comma-separated. */
static void mask_names(uint32_t mask, const char *const *names, char *buf, size_t cap)
{
    size_t n = strlen(buf);
    int first = 1;
    for (int i = 0; names[i] && n < cap; i++) {
        if (!((mask >> i) & 1))
            continue;
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", first ? "" : ", ", names[i]);
        first = 0;
    }
}

static void clock_of(int s, char *buf, size_t cap)
{
    snprintf(buf, cap, "%02d:%02d", s / 3600, s / 60 % 60);
}

/* What rule r limits (its kind and scope, in words) and its number. */
static void describe(const tm_rule *r, char *limits, size_t lcap, char *number, size_t ncap)
{
    char scope[200] = "";
    if (r->channels)
        mask_names(r->channels, tm_gate_channel_names, scope, sizeof scope);
    else
        snprintf(scope, sizeof scope, "every channel");
    if (r->places) {
        size_t n = strlen(scope);
        snprintf(scope + n, sizeof scope - n, " at ");
        mask_names(r->places, tm_gate_place_names, scope, sizeof scope);
    }
    char what[160] = "";
    number[0] = '\0';
    switch (r->kind) {
    case TM_RULE_WINDOW: {
        char a[16], b[16];
        clock_of(r->from_s, a, sizeof a);
        clock_of(r->to_s, b, sizeof b);
        snprintf(what, sizeof what, "hours");
        snprintf(number, ncap, "%s-%s local", a, b);
        break;
    }
    case TM_RULE_DAYS:
        snprintf(what, sizeof what, "days");
        mask_names(r->days_mask, tm_gate_weekday_names, number, ncap);
        if (r->holidays) {
            size_t n = strlen(number);
            snprintf(number + n, ncap - n, "%sfederal holidays", n ? ", " : "");
        }
        break;
    case TM_RULE_CAP:
        snprintf(what, sizeof what, "frequency");
        if (r->window_secs > 0)
            snprintf(number, ncap, "%d in %lld hours", r->count, (long long)(r->window_secs / 3600));
        else
            snprintf(number, ncap, "%d in %d days", r->count, r->window_days);
        break;
    case TM_RULE_AFTER:
        snprintf(what, sizeof what, "wait after a contact");
        snprintf(number, ncap, "%d days", r->window_days);
        break;
    case TM_RULE_BLOCK:
        snprintf(what, sizeof what, "no contact");
        break;
    case TM_RULE_REQUIRES:
    case TM_RULE_FORBID:
        snprintf(what, sizeof what, r->kind == TM_RULE_REQUIRES ? "content required: " : "content forbidden: ");
        for (int i = 0; i < r->nfields; i++) {
            size_t n = strlen(what);
            snprintf(what + n, sizeof what - n, "%s%s", i ? ", " : "", r->fields[i]);
        }
        break;
    case TM_RULE_CONSENT:
        snprintf(what, sizeof what, "consent required%s",
                 r->consent_bit == TM_CONSENT_AUTODIAL ? " (autodial)" : "");
        break;
    case TM_RULE_OPTOUT:
        snprintf(what, sizeof what, "opt-out honoured");
        break;
    case TM_RULE_INCONVENIENT:
        snprintf(what, sizeof what, "times the consumer designated");
        break;
    case TM_RULE_REQUESTS:
        snprintf(what, sizeof what, "the consumer's requests about contact");
        break;
    case TM_RULE_CHECK:
        snprintf(what, sizeof what, "decided by the script");
        break;
    case TM_RULE_MARGIN:
        snprintf(what, sizeof what, "time-barred margin (creditor policy, not law)");
        snprintf(number, ncap, "%d days", r->margin_days);
        break;
    default:
        snprintf(what, sizeof what, "?");
    }
    char cond[200] = "";
    if (r->flags_any) {
        snprintf(cond, sizeof cond, "; when flagged ");
        mask_names(r->flags_any, tm_gate_flag_names, cond, sizeof cond);
    }
    if (r->time_barred == TM_TRI_TRUE) {
        size_t n = strlen(cond);
        snprintf(cond + n, sizeof cond - n, "; time-barred debts");
    }
    if (r->collectors) {
        size_t n = strlen(cond);
        snprintf(cond + n, sizeof cond - n, "; collectors ");
        mask_names(r->collectors, tm_gate_collector_names, cond, sizeof cond);
    }
    if (r->owners) {
        size_t n = strlen(cond);
        snprintf(cond + n, sizeof cond - n, "; owned by ");
        mask_names(r->owners, tm_gate_owner_names, cond, sizeof cond);
    }
    snprintf(limits, lcap, "%s (%s%s)", what, scope, cond);
}

static void put_csv(const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, stdout);
        return;
    }
    putchar('"');
    for (; *s; s++) {
        if (*s == '"')
            putchar('"');
        putchar(*s);
    }
    putchar('"');
}

static void row(int csv, const char *const *cols)
{
    for (int i = 0; i < NCOLS; i++) {
        const char *c = cols[i] ? cols[i] : "";
        if (csv) {
            if (i)
                putchar(',');
            put_csv(c);
        } else {
            /* One line per row; a field's own line breaks become spaces. */
            if (i)
                fputs(" | ", stdout);
            for (const char *p = c; *p; p++)
                putchar(*p == '\n' || *p == '\r' ? ' ' : *p);
        }
    }
    putchar('\n');
}

static const char *verified_word(int v)
{
    return v == TM_TRI_TRUE ? "yes" : v == TM_TRI_FALSE ? "no" : "";
}

static int reg_in_state(const tm_regulation *reg, const char *state)
{
    for (int i = 0; i < reg->nstates; i++)
        if (strcmp(reg->states[i], state) == 0)
            return 1;
    return 0;
}

static int cmp_reg(const void *a, const void *b)
{
    const tm_regulation *x = *(const tm_regulation *const *)a, *y = *(const tm_regulation *const *)b;
    return strcmp(x->id, y->id);
}

int tm_cmd_regulations(tm_cli *cli)
{
    const char *sub = NULL, *state = NULL;
    int csv = 0;
    for (int i = 1; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(regulations_help, stdout);
            return TM_EXIT_OK;
        } else if (strcmp(a, "--csv") == 0) {
            csv = 1;
        } else if (strcmp(a, "--state") == 0) {
            if (i + 1 >= cli->argc)
                return tm_cli_usage_error("regulations", "--state needs a USPS code (MA, DC, ...)");
            state = cli->argv[++i];
        } else if (a[0] == '-') {
            return tm_cli_usage_error("regulations", "unknown option '%s'", a);
        } else if (!sub) {
            sub = a;
        } else {
            return tm_cli_usage_error("regulations", "unexpected argument '%s'", a);
        }
    }
    if (!sub || strcmp(sub, "table") != 0)
        return tm_cli_usage_error("regulations", "regulations needs a subcommand: table");
    if (state && (strlen(state) != 2 || !tm_tz_state_zones(state)))
        return tm_cli_usage_error("regulations", "--state: unknown state '%s' (a USPS code: MA, DC, ...)",
                                  state);
    struct tm_err e = {0};
    tm_engine_opts eo = {.scripts = cli->scripts, .gate_problem = tm_cli_warn_gate_problem};
    tm_engine *eng = NULL;
    int failed_at = 0;
    if (tm_engine_open(&eo, TM_ENGINE_GATE, &eng, &failed_at, &e) != TM_OK) {
        fprintf(stderr, "tallyman: cannot load the %s: %s\n",
                failed_at == TM_ENGINE_AT_SCRIPTS ? "script set" : "regulations", e.msg);
        return TM_EXIT_FAIL;
    }
    int n = tm_gate_count(eng->gate);
    const tm_regulation **regs = calloc((size_t)(n ? n : 1), sizeof *regs);
    if (!regs) {
        tm_engine_close(eng);
        fprintf(stderr, "tallyman: out of memory\n");
        return TM_EXIT_FAIL;
    }
    int m = 0;
    for (int i = 0; i < n; i++) {
        const tm_regulation *reg = tm_gate_regulation(eng->gate, i);
        if (!state || reg_in_state(reg, state))
            regs[m++] = reg;
    }
    qsort(regs, (size_t)m, sizeof *regs, cmp_reg);
    if (csv)
        row(1, col_names);
    for (int i = 0; i < m; i++) {
        const tm_regulation *reg = regs[i];
        if (reg->checked) {
            char limits[700];
            snprintf(limits, sizeof limits, "statement of what the state adds: %s", reg->finding);
            const char *cols[NCOLS] = {reg->id, "(statement)", limits, "", reg->checked,
                                       verified_word(reg->verified), reg->missing, reg->interpretation};
            row(csv, cols);
        }
        for (int k = 0; k < reg->nrules; k++) {
            const tm_rule *r = &reg->rules[k];
            char limits[600], number[120];
            describe(r, limits, sizeof limits, number, sizeof number);
            const char *slash = strchr(r->qid, '/');
            const char *cols[NCOLS] = {reg->id, slash ? slash + 1 : r->qid, limits, number, r->cite,
                                       verified_word(r->verified), r->missing, r->interpretation};
            row(csv, cols);
        }
    }
    free(regs);
    tm_engine_close(eng);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "tallyman: regulations: cannot write the table\n");
        return TM_EXIT_FAIL;
    }
    return TM_EXIT_OK;
}
