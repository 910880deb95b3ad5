/*
 * app/cycle_stats.c: the day's figures of the daily cycle (tm_cycle_stats,
 * cycle.h): counted by the phases, added up over days, and printed.
 */
#include <stdio.h>
#include <string.h>

#include "cycle_int.h"

void tm__cycle_count_rule(tm_cycle_stats *st, const char *rule)
{
    for (int i = 0; i < st->nrules; i++)
        if (strcmp(st->by_rule[i].rule, rule) == 0) {
            st->by_rule[i].count++;
            return;
        }
    if (st->nrules < TM_CYCLE_MAX_RULES) {
        snprintf(st->by_rule[st->nrules].rule, sizeof st->by_rule[0].rule, "%s", rule);
        st->by_rule[st->nrules++].count = 1;
    }
}

void tm__cycle_count_channel(tm_cycle_stats *st, const char *ch)
{
    for (int i = 0; i < st->nchannels; i++)
        if (strcmp(st->by_channel[i].channel, ch) == 0) {
            st->by_channel[i].sent++;
            return;
        }
    if (st->nchannels < TM_CYCLE_MAX_CHANNELS) {
        snprintf(st->by_channel[st->nchannels].channel, sizeof st->by_channel[0].channel, "%s", ch);
        st->by_channel[st->nchannels++].sent = 1;
    }
}

void tm_cycle_stats_add(tm_cycle_stats *t, const tm_cycle_stats *d)
{
    t->events += d->events;
    t->events_ignored += d->events_ignored;
    t->started += d->started;
    t->unassigned = d->unassigned; /* a count of the day, not a flow */
    t->unstarted = d->unstarted;
    t->timers += d->timers;
    t->promises_broken += d->promises_broken;
    t->promises_kept += d->promises_kept;
    t->handoffs += d->handoffs;
    t->queued += d->queued;
    t->step_errors += d->step_errors;
    t->planned += d->planned;
    t->allowed += d->allowed;
    t->blocked += d->blocked;
    t->rescheduled += d->rescheduled;
    t->skipped += d->skipped;
    t->rule_failures += d->rule_failures;
    t->limit_hits += d->limit_hits;
    for (int i = 0; i < d->nstopped; i++) {
        int k = 0;
        while (k < t->nstopped && (strcmp(t->stopped[k].journey, d->stopped[i].journey) != 0 ||
                                   strcmp(t->stopped[k].what, d->stopped[i].what) != 0))
            k++;
        if (k == t->nstopped && t->nstopped < TM_CYCLE_MAX_STOPPED) {
            t->stopped[t->nstopped++] = d->stopped[i];
        } else if (k < t->nstopped) {
            t->stopped[k].hits += d->stopped[i].hits;
            t->stopped[k].parked += d->stopped[i].parked;
        }
    }
    for (int i = 0; i < d->nfailures; i++) {
        int k = 0;
        while (k < t->nfailures && strcmp(t->failures[k].what, d->failures[i].what) != 0)
            k++;
        if (k == t->nfailures && t->nfailures < TM_CYCLE_MAX_FAILURES)
            t->failures[t->nfailures++] = d->failures[i];
        else if (k < t->nfailures)
            t->failures[k].count += d->failures[i].count;
    }
    t->no_contact += d->no_contact;
    for (int i = 0; i < d->nmoved; i++)
        for (long c = 0; c < d->moved[i].count; c++)
            tm__cycle_count_moved(t, d->moved[i].from, d->moved[i].to);
    t->sent += d->sent;
    t->duplicates += d->duplicates;
    t->retry += d->retry;
    t->failed += d->failed;
    t->render_failed += d->render_failed;
    t->receiver_refused |= d->receiver_refused;
    for (int i = 0; i < 5; i++)
        t->seconds[i] += d->seconds[i];
    for (int i = 0; i < d->nchannels; i++) {
        int k = 0;
        while (k < t->nchannels && strcmp(t->by_channel[k].channel, d->by_channel[i].channel) != 0)
            k++;
        if (k == t->nchannels && t->nchannels < TM_CYCLE_MAX_CHANNELS)
            t->by_channel[t->nchannels++] = d->by_channel[i];
        else if (k < t->nchannels)
            t->by_channel[k].sent += d->by_channel[i].sent;
    }
    for (int i = 0; i < d->nrules; i++) {
        int k = 0;
        while (k < t->nrules && strcmp(t->by_rule[k].rule, d->by_rule[i].rule) != 0)
            k++;
        if (k == t->nrules && t->nrules < TM_CYCLE_MAX_RULES)
            t->by_rule[t->nrules++] = d->by_rule[i];
        else if (k < t->nrules)
            t->by_rule[k].count += d->by_rule[i].count;
    }
}

void tm_cycle_rules_order(const tm_cycle_stats *st, int order[TM_CYCLE_MAX_RULES])
{
    int n = st->nrules < TM_CYCLE_MAX_RULES ? st->nrules : TM_CYCLE_MAX_RULES;
    for (int i = 0; i < n; i++)
        order[i] = i;
    /* insertion sort: at most 64 rules */
    for (int i = 1; i < n; i++) {
        int v = order[i], j = i;
        while (j > 0) {
            const int u = order[j - 1];
            long cu = st->by_rule[u].count, cv = st->by_rule[v].count;
            if (cu > cv || (cu == cv && strcmp(st->by_rule[u].rule, st->by_rule[v].rule) <= 0))
                break;
            order[j] = u;
            j--;
        }
        order[j] = v;
    }
}

void tm_cycle_print(FILE *f, const tm_cycle_stats *st)
{
    /* Every new debt that did not start is in no journey: the ones no segment
     * took and the ones a script error kept out (parked until it is fixed). */
    fprintf(f, "journeys: %ld started, %ld events handled (%ld ignored), %ld timers, %ld debts in no journey",
            st->started, st->events, st->events_ignored, st->timers, st->unassigned + st->unstarted);
    if (st->unstarted)
        fprintf(f, " (%ld of them parked by a script error)", st->unstarted);
    if (st->handoffs)
        fprintf(f, ", %ld handed to another journey", st->handoffs);
    if (st->queued)
        fprintf(f, ", %ld handed to agent queues", st->queued);
    if (st->step_errors)
        fprintf(f, ", %ld script errors", st->step_errors);
    if (st->promises_broken || st->promises_kept)
        fprintf(f, "\npromises past their due date: %ld broken or partly kept, %ld kept",
                st->promises_broken, st->promises_kept);
    fprintf(f, "\ncontacts: %ld planned, %ld allowed, %ld blocked", st->planned, st->allowed,
            st->blocked);
    if (st->rule_failures)
        fprintf(f, ", %ld stopped by a rule that failed", st->rule_failures);
    fprintf(f, " (%ld rescheduled, %ld skipped)\n", st->rescheduled, st->skipped);
    if (st->no_contact)
        fprintf(f, "no usable contact point: %ld contacts not sent (handed back to their journeys)\n",
                st->no_contact);
    if (st->nmoved) {
        fprintf(f, "moved to another channel after a refusal:");
        for (int i = 0; i < st->nmoved; i++)
            fprintf(f, "%s %s->%s %ld", i ? "," : "", st->moved[i].from, st->moved[i].to, st->moved[i].count);
        fprintf(f, "\n");
    }
    fprintf(f, "messages: %ld sent", st->sent);
    for (int i = 0; i < st->nchannels; i++)
        fprintf(f, "%s%s %ld", i ? ", " : " (", st->by_channel[i].channel, st->by_channel[i].sent);
    if (st->nchannels)
        fprintf(f, ")");
    if (st->duplicates)
        fprintf(f, ", %ld already sent", st->duplicates);
    if (st->retry)
        fprintf(f, ", %ld to retry", st->retry);
    if (st->failed)
        fprintf(f, ", %ld failed", st->failed);
    if (st->render_failed)
        fprintf(f, ", %ld could not be rendered", st->render_failed);
    fprintf(f, "\n");
    fprintf(f, "time: %.1f s (events %.1f, new debts %.1f, timers %.1f, gate %.1f, dispatch %.1f)\n",
            st->seconds[0] + st->seconds[1] + st->seconds[2] + st->seconds[3] + st->seconds[4],
            st->seconds[0], st->seconds[1], st->seconds[2], st->seconds[3], st->seconds[4]);
    if (st->nrules) {
        fprintf(f, "blocked by rule:\n");
        int order[TM_CYCLE_MAX_RULES];
        tm_cycle_rules_order(st, order);
        for (int k = 0; k < st->nrules; k++)
            fprintf(f, "  %-48s %ld\n", st->by_rule[order[k]].rule, st->by_rule[order[k]].count);
    }
    if (st->limit_hits)
        fprintf(f, "script limits hit: %ld\n", st->limit_hits);
    if (st->nstopped) {
        fprintf(f, "journeys stopped after a limit (their other debts were parked without running "
                   "them; the scripts must be fixed):\n");
        for (int i = 0; i < st->nstopped; i++)
            fprintf(f, "  %s: %s: hit %ld time%s, %ld debt%s parked at once\n", st->stopped[i].journey,
                    st->stopped[i].what, st->stopped[i].hits, st->stopped[i].hits == 1 ? "" : "s",
                    st->stopped[i].parked, st->stopped[i].parked == 1 ? "" : "s");
    }
    if (st->nfailures) {
        fprintf(f, "rule failures (the contacts were blocked; the scripts must be fixed):\n");
        for (int i = 0; i < st->nfailures; i++)
            fprintf(f, "  %s: %ld contact%s\n", st->failures[i].what, st->failures[i].count,
                    st->failures[i].count == 1 ? "" : "s");
    }
}

void tm__cycle_count_moved(tm_cycle_stats *st, const char *from, const char *to)
{
    int k = 0;
    while (k < st->nmoved && !(strcmp(st->moved[k].from, from) == 0 && strcmp(st->moved[k].to, to) == 0))
        k++;
    if (k == st->nmoved) {
        if (k >= (int)(sizeof st->moved / sizeof *st->moved))
            return;
        snprintf(st->moved[k].from, sizeof st->moved[k].from, "%s", from);
        snprintf(st->moved[k].to, sizeof st->moved[k].to, "%s", to);
        st->nmoved++;
    }
    st->moved[k].count++;
}
