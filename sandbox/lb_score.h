/*
 * sandbox/lb_score.h: the `tm.score` function (see lb_score.c): scoring
 * models from the script tree's models/ folder, for scripts.
 */
#ifndef TM_LB_SCORE_H
#define TM_LB_SCORE_H

/* Registers tm.score for every sandbox created afterwards (call once,
 * before the first sandbox). */
void tm_lb_score_register(void);

#endif
