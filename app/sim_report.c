/*
 * app/sim_report.c: the simulation's HTML report (sim_report.h): one
 * self-contained page (inline CSS and SVG, nothing loaded from elsewhere,
 * every string escaped) with the run's parameters, the measures, the
 * recovery curve, the channel mix, the roll rates and the blocked attempts
 * by rule.
 */
#include "sim_report.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"


static void esc(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f);
        }
    }
}

/* The folder the store is in, absolute ("" when it cannot be known). */
static void store_dir(const char *db, char *buf, size_t cap)
{
    char full[PATH_MAX];
    buf[0] = '\0';
    if (!realpath(db, full))
        return;
    char *slash = strrchr(full, '/');
    if (slash)
        *slash = '\0';
    snprintf(buf, cap, "%s", full);
}

/* `path` relative to folder `dir` when it lies under it ("./x" for the
 * store itself), else absolute; as given when it cannot be resolved. */
static const char *rel_path(const char *dir, const char *path, char *buf, size_t cap)
{
    char full[PATH_MAX];
    if (!*dir || !realpath(path, full)) {
        snprintf(buf, cap, "%s", path);
        return buf;
    }
    size_t n = strlen(dir);
    if (strncmp(full, dir, n) == 0 && full[n] == '/')
        snprintf(buf, cap, "%s", full + n + 1);
    else if (strcmp(full, dir) == 0)
        snprintf(buf, cap, ".");
    else
        snprintf(buf, cap, "%s", full);
    return buf;
}

static void html_curve(FILE *f, const tm_simulation *S, tm_sim_arm *const *arms, int narms)
{
    static const char *const colour[2] = {"#1f5fa8", "#c8611a"};
    const double W = 640, H = 260, L = 56, B = 30;
    double total = 0, top = 0;
    for (size_t i = 0; i < S->n; i++)
        total += (double)S->d[i].placed;
    for (int a = 0; a < narms; a++)
        for (int k = 0; k < S->days; k++)
            if (total > 0 && (double)arms[a]->curve[k] / total > top)
                top = (double)arms[a]->curve[k] / total;
    /* y ticks at a round step (1, 2 or 5 times a power of ten, in percent),
     * the axis topped at the first tick at or above the highest point */
    double pct = top > 0 ? top * 100 : 1;
    double raw = pct / 5, mag = pow(10, floor(log10(raw))), norm = raw / mag;
    double step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
    int nticks = (int)ceil(pct / step - 1e-9);
    if (nticks < 1)
        nticks = 1;
    top = nticks * step / 100;
    fprintf(f, "<svg width=\"%.0f\" height=\"%.0f\" "
               "role=\"img\" aria-label=\"recovery curve\">\n", W, H);
    fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#888\"/>\n", L,
            H - B, W - 10, H - B);
    fprintf(f, "<line x1=\"%.0f\" y1=\"10\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#888\"/>\n", L, L,
            H - B);
    int decimals = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    for (int t = 0; t <= nticks; t++) {
        double y = H - B - (H - B - 10) * t / (double)nticks;
        fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%.*f%%</text>\n",
                L - 4, y + 4, decimals, step * t);
        fprintf(f, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#eee\"/>\n", L, y,
                W - 10, y);
    }
    /* x ticks on days: every day for a short run, else a round number of days */
    static const int steps[] = {1, 2, 5, 7, 10, 14, 30, 60, 90, 180, 365, 730};
    int dstep = steps[sizeof steps / sizeof *steps - 1];
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++)
        if (S->days / steps[i] <= 12) {
            dstep = steps[i];
            break;
        }
    for (int day = dstep; day <= S->days; day += dstep) {
        double x = L + (W - 10 - L) * day / (double)S->days;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#888\"/>"
                   "<text x=\"%.1f\" y=\"%.0f\" font-size=\"11\" text-anchor=\"middle\">%d</text>\n",
                x, H - B, x, H - B + 4, x, H - B + 15, day);
    }
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"11\" text-anchor=\"middle\">day</text>\n",
            (L + W) / 2, H - 2);
    for (int a = 0; a < narms; a++) {
        fprintf(f, "<polyline fill=\"none\" stroke-width=\"2\" stroke=\"%s\" points=\"%.1f,%.1f",
                colour[a], L, H - B);
        for (int k = 0; k < S->days; k++) {
            double x = L + (W - 10 - L) * (k + 1) / (double)S->days;
            double v = total > 0 ? (double)arms[a]->curve[k] / total : 0;
            fprintf(f, " %.1f,%.1f", x, H - B - (H - B - 10) * v / top);
        }
        fputs("\"/>\n", f);
        fprintf(f, "<text x=\"%.0f\" y=\"%d\" font-size=\"12\" fill=\"%s\">", L + 10, 24 + 16 * a,
                colour[a]);
        esc(f, arms[a]->label);
        fputs(": ", f);
        esc(f, arms[a]->dir);
        fputs("</text>\n", f);
    }
    fputs("</svg>\n", f);
}

static void html_roll(FILE *f, const tm_sim_arm *A)
{
    fputs("<h3>", f);
    esc(f, A->label);
    fputs("</h3>\n<table class=\"heat\"><tr><th>from \\ to</th>", f);
    for (int t = 0; t < TM_SIM_NBUCKETS; t++)
        fprintf(f, "<th>%s</th>", tm_sim_bucket_names[t]);
    fputs("<th>debts</th></tr>\n", f);
    for (int r = 0; r < TM_SIM_NBUCKETS; r++) {
        long row = 0;
        for (int t = 0; t < TM_SIM_NBUCKETS; t++)
            row += A->roll[r][t];
        if (row == 0)
            continue;
        fprintf(f, "<tr><th>%s</th>", tm_sim_bucket_names[r]);
        for (int t = 0; t < TM_SIM_NBUCKETS; t++) {
            double p = (double)A->roll[r][t] / (double)row;
            fprintf(f, "<td style=\"background:rgba(200,60,30,%.2f)\">%.1f%%</td>", p * 0.85,
                    p * 100);
        }
        fprintf(f, "<td>%ld</td></tr>\n", row);
    }
    fputs("</table>\n", f);
}

static void html_mix(FILE *f, tm_sim_arm *const *arms, int narms)
{
    static const char *const colour[2] = {"#1f5fa8", "#c8611a"};
    long max = 1;
    int rows = 0;
    for (int c = 0; c < TM_SIM_NCHANNELS; c++) {
        int used = 0;
        for (int a = 0; a < narms; a++) {
            if (arms[a]->by_ch[c] > max)
                max = arms[a]->by_ch[c];
            used |= arms[a]->by_ch[c] > 0;
        }
        rows += used;
    }
    int h = 20 + rows * (narms * 16 + 10);
    fprintf(f, "<svg width=\"640\" height=\"%d\" role=\"img\" "
               "aria-label=\"channel mix\">\n", h);
    int y = 10;
    for (int c = 0; c < TM_SIM_NCHANNELS; c++) {
        int used = 0;
        for (int a = 0; a < narms; a++)
            used |= arms[a]->by_ch[c] > 0;
        if (!used)
            continue;
        fprintf(f, "<text x=\"0\" y=\"%d\" font-size=\"12\">%s</text>\n", y + 12, tm_sim_channels[c]);
        for (int a = 0; a < narms; a++) {
            double w = 440.0 * (double)arms[a]->by_ch[c] / (double)max;
            fprintf(f, "<rect x=\"80\" y=\"%d\" width=\"%.1f\" height=\"13\" fill=\"%s\"/>"
                       "<text x=\"%.1f\" y=\"%d\" font-size=\"11\">%ld</text>\n",
                    y, w, colour[a], 84 + w, y + 11, arms[a]->by_ch[c]);
            y += 16;
        }
        y += 10;
    }
    fputs("</svg>\n", f);
}

int tm_sim_report_write(const char *path, const tm_simulation *S, tm_sim_arm *const *arms,
                        int narms, const tm_sim_kpi *kp, const char *db, const char *scripts,
                        struct tm_err *err)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return tm_err_set(err, TM_EIO, "%s", strerror(errno));
    char day0[16];
    tm_date dd;
    tm_calendar_days_to_date(S->day0, &dd);
    tm_calendar_format_date(dd, day0, sizeof day0, NULL);
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<title>tallyman simulation</title>\n<style>\n"
          "body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1000px}\n"
          "table{border-collapse:collapse;margin:1em 0;max-width:100%}th,td{border:1px solid #ccc;"
          "padding:3px 8px;text-align:right;overflow-wrap:anywhere}th{background:#f3f3f3}"
          "td.l,th.l{text-align:left}\nsvg{max-width:100%;height:auto}\n"
          "tr.sig td{font-weight:bold}code{font-size:90%}\n"
          "</style></head><body>\n<h1>Strategy simulation</h1>\n", f);
    fputs("<h2>Run</h2>\n<table>\n", f);
    /* Paths as seen from the store's folder, so the report reads the same
     * wherever it was made. */
    char dbdir[PATH_MAX], rs[PATH_MAX], rw[PATH_MAX], rc[PATH_MAX];
    store_dir(db, dbdir, sizeof dbdir);
    char wdesc[PATH_MAX + 160];
    if (S->world.fitted)
        snprintf(wdesc, sizeof wdesc, "fitted from %ld outcomes of %ld contacts up to %s (%s)",
                 S->world.fitted_outcomes, S->world.fitted_contacts, S->world.fitted_as_of,
                 S->world_file);
    else
        snprintf(wdesc, sizeof wdesc, "assumed (%s)", S->world_file ? S->world_file : "the built-in values");
    const char *params[][2] = {{"store (copied, not changed)", rel_path(dbdir, db, rs, sizeof rs)},
                               {"script tree", rel_path(dbdir, scripts, rw, sizeof rw)},
                               {"first day", day0},
                               {"world", wdesc},
                               {"costs", S->costs_file ? rel_path(dbdir, S->costs_file, rc, sizeof rc) : "none"},
                               {"currency", S->currency}};
    for (size_t i = 0; i < sizeof params / sizeof *params; i++) {
        fputs("<tr><th class=\"l\">", f);
        esc(f, params[i][0]);
        fputs("</th><td class=\"l\">", f);
        esc(f, params[i][1]);
        fputs("</td></tr>\n", f);
    }
    fprintf(f, "<tr><th class=\"l\">days</th><td class=\"l\">%d</td></tr>\n"
               "<tr><th class=\"l\">seed</th><td class=\"l\">%llu</td></tr>\n"
               "<tr><th class=\"l\">debts</th><td class=\"l\">%zu</td></tr>\n",
            S->days, (unsigned long long)S->seed, S->n);
    for (int a = 0; a < narms; a++) {
        fputs("<tr><th class=\"l\">strategy ", f);
        esc(f, arms[a]->label);
        fputs("</th><td class=\"l\">", f);
        char rd[PATH_MAX];
        esc(f, rel_path(dbdir, arms[a]->dir, rd, sizeof rd));
        fputs("<br>scripts <code>", f);
        esc(f, arms[a]->hash);
        fputs("</code></td></tr>\n", f);
    }
    fputs("</table>\n<h2>Measures</h2>\n<table><tr><th class=\"l\">measure</th>", f);
    for (int a = 0; a < narms; a++) {
        fputs("<th>", f);
        esc(f, arms[a]->label);
        fputs("</th>", f);
    }
    if (narms == 2)
        fputs("<th>B &minus; A</th><th>95% CI (paired by debt)</th>", f);
    fputs("</tr>\n", f);
    for (int k = 0; k <= TM_SIM_NKPI; k++) {
        char a[64], b[64], d[64], lo[64], hi[64];
        tm_sim_format_value(S, a, sizeof a, kp[k].fmt, kp[k].d.a, 0);
        tm_sim_format_value(S, b, sizeof b, kp[k].fmt, kp[k].d.b, 0);
        tm_sim_format_value(S, d, sizeof d, kp[k].fmt, kp[k].d.diff, 1);
        fprintf(f, "<tr%s><td class=\"l\">", narms == 2 && kp[k].d.significant ? " class=\"sig\"" : "");
        esc(f, kp[k].name);
        fputs("</td><td>", f);
        esc(f, a);
        if (narms == 2) {
            fputs("</td><td>", f);
            esc(f, b);
            fputs("</td><td>", f);
            esc(f, d);
            fputs("</td><td>", f);
            if (kp[k].paired && !isnan(kp[k].d.lo)) {
                tm_sim_format_value(S, lo, sizeof lo, kp[k].fmt, kp[k].d.lo, 0);
                tm_sim_format_value(S, hi, sizeof hi, kp[k].fmt, kp[k].d.hi, 0);
                fputs("[", f);
                esc(f, lo);
                fputs(", ", f);
                esc(f, hi);
                fputs(kp[k].d.significant ? "] *" : "]", f);
            } else {
                fputs("n/a", f);
            }
        }
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
    char verdict[400];
    tm_sim_verdict(S, kp, narms == 2, verdict, sizeof verdict);
    fputs("<p>Amounts in ", f);
    esc(f, S->currency);
    fputs(".</p>\n<p class=\"verdict\"><b>", f);
    esc(f, verdict);
    fputs("</b></p>\n", f);
    if (narms == 2)
        fputs("<p>Bold rows (*): the 95% interval of the difference excludes 0.</p>\n", f);
    fputs("<h2>Recovery curve</h2>\n<p>Collected by the end of each day, as a share of the placed "
          "balance.</p>\n", f);
    html_curve(f, S, arms, narms);
    fputs("<h2>Channel mix</h2>\n<p>Messages sent, by channel.</p>\n", f);
    html_mix(f, arms, narms);
    fputs("<h2>Roll rates</h2>\n<p>Days-past-due bucket at the start (rows) and at the end "
          "(columns), as a share of the row.</p>\n", f);
    for (int a = 0; a < narms; a++)
        html_roll(f, arms[a]);
    fputs("<h2>By journey and variant</h2>\n<p>Where each debt ended, with what it paid and what "
          "contacting it cost.</p>\n", f);
    for (int a = 0; a < narms; a++) {
        fputs("<h3>", f);
        esc(f, arms[a]->label);
        fputs("</h3>\n<table><tr><th class=\"l\">journey</th><th class=\"l\">variant</th><th>debts</th>"
              "<th>collected</th><th>contact cost</th><th>net</th></tr>\n", f);
        for (size_t g = 0; g < arms[a]->ngroups; g++) {
            const tm_sim_group *G = &arms[a]->groups[g];
            char c[64], k[64], n[64];
            tm_sim_format_value(S, c, sizeof c, TM_SIM_FMT_MONEY, (double)G->collected, 0);
            tm_sim_format_value(S, k, sizeof k, TM_SIM_FMT_MONEY, G->cost, 0);
            tm_sim_format_value(S, n, sizeof n, TM_SIM_FMT_MONEY, (double)G->collected - G->cost, 0);
            fputs("<tr><td class=\"l\">", f);
            esc(f, G->journey);
            fputs("</td><td class=\"l\">", f);
            esc(f, G->variant);
            fprintf(f, "</td><td>%ld</td><td>", G->debts);
            esc(f, c);
            fputs("</td><td>", f);
            esc(f, k);
            fputs("</td><td>", f);
            esc(f, n);
            fputs("</td></tr>\n", f);
        }
        fputs("</table>\n", f);
    }
    fputs("<h2>Blocked contact attempts by rule</h2>\n", f);
    for (int a = 0; a < narms; a++) {
        fputs("<h3>", f);
        esc(f, arms[a]->label);
        fputs("</h3>\n<table><tr><th class=\"l\">rule</th><th>attempts</th></tr>\n", f);
        int order[TM_CYCLE_MAX_RULES];
        tm_cycle_rules_order(&arms[a]->total, order);
        for (int r = 0; r < arms[a]->total.nrules; r++) {
            fputs("<tr><td class=\"l\">", f);
            esc(f, arms[a]->total.by_rule[order[r]].rule);
            fprintf(f, "</td><td>%ld</td></tr>\n", arms[a]->total.by_rule[order[r]].count);
        }
        fputs("</table>\n", f);
    }
    fputs("</body></html>\n", f);
    if (fclose(f) != 0)
        return tm_err_set(err, TM_EIO, "%s", strerror(errno));
    return TM_OK;
}

