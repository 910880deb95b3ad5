/*
 * core/stopat.h: named stopping points for tests that must prove where a
 * process was when something happened to it (a kill, a second process).
 *
 * When the environment variable TM_STOP_AT names a point ("NAME" or
 * "NAME@N", the Nth time the point is reached, counting from 1), the process
 * writes "tallyman: stopped at NAME (pid P)" to stderr and stops itself with
 * SIGSTOP when it reaches that point. A test waits until the process shows as
 * stopped, does what it needs (SIGKILL it, start a rival), and then kills it
 * or lets it go on with SIGCONT. Without TM_STOP_AT a point costs one load
 * and a branch. Points are named "<command>.<where>", e.g. "import.batch"
 * (after each committed batch) or "run.dispatch" (before the dispatch phase);
 * each point is listed where it is placed.
 */
#ifndef TM_STOPAT_H
#define TM_STOPAT_H

/* Stops the process here when TM_STOP_AT names `point` (see above); returns
 * at once otherwise, or after SIGCONT. Safe from any thread. `point` is a
 * NUL-terminated constant string. */
void tm_stopat(const char *point);

#endif
