/*
 * app/sim_report.h: the HTML report of `tallyman simulate --report FILE`:
 * one self-contained page (no scripts, styles or images from elsewhere) with
 * the run's parameters, the measures of app/sim_measures.h, the recovery
 * curve, the channel mix, the roll rates and the blocked attempts by rule.
 */
#ifndef TM_SIM_REPORT_H
#define TM_SIM_REPORT_H

#include "sim_measures.h"
#include "tm_status.h"

/* Writes the report of the `narms` arms (1 or 2) of S, with their measures
 * kp[TM_SIM_NKPI + 1] (tm_sim_measure), to `path`; `db` and `scripts` are
 * named in it as the store copied and the script tree. Every string from the
 * user (paths, labels) is HTML-escaped. TM_OK, or TM_EIO with the system's
 * reason in `err` (the file may be left part written). */
int tm_sim_report_write(const char *path, const tm_simulation *S, tm_sim_arm *const *arms,
                        int narms, const tm_sim_kpi *kp, const char *db, const char *scripts,
                        struct tm_err *err);

#endif
