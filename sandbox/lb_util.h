/*
 * sandbox/lb_util.h: small engine functions for scripts (see lb_util.c):
 * tm.bucket, the stable per-key split behind champion/challenger variants.
 */
#ifndef TM_LB_UTIL_H
#define TM_LB_UTIL_H

/* Registers tm.bucket and the journey durations business_days(n) and
 * minutes(n) for every sandbox created afterwards. */
void tm_lb_util_register(void);

#endif
