/*
 * core/lease.h: store-wide leases: one process at a time does a piece of
 * work on a store (the daily cycle), whatever spool or host it uses.
 *
 * A lease names its holder (pid, host, and the start time of that process)
 * and since when it is held; the holder renews it inside each of its write
 * transactions and releases it when done. Another process is refused at once
 * while the holder lives. A lease outlives a holder that crashed: it is taken
 * over when the holder ran on this host and that process is gone (its pid no
 * longer runs, or runs another program started later), or, for a holder on
 * another host whose process cannot be checked, when it was not renewed for
 * TM_LEASE_EXPIRY seconds. A takeover is said through the caller's report
 * function and written to the audit chain ("lease.taken_over"). A holder
 * whose lease was taken over learns it at its next renewal and stops.
 */
#ifndef TM_LEASE_H
#define TM_LEASE_H

#include <stdint.h>

#include "store.h"
#include "tm_status.h"

/* A lease held from another host is taken over after this long without a
 * renewal (one hour: a run renews at every commit, at least every few
 * seconds while it works). */
#define TM_LEASE_EXPIRY 3600

typedef struct tm_lease_hold tm_lease_hold;

/* Takes lease `name` ("cycle") on `s` for this process, at wall-clock time
 * `now` (Unix seconds). `audit_key` (TM_AUDIT_KEY_LEN bytes) signs the
 * takeover record; `say` (may be NULL) gets one line when a lease is taken
 * over from a holder that is gone or expired. *out is freed by
 * tm_lease_release. Returns TM_OK; TM_EBUSY when another live holder has it,
 * with `err` naming its pid, host and since when (RFC 3339, UTC), without
 * waiting for the store's write lock; TM_ESTORE, TM_ENOMEM. */
int tm_lease_acquire(tm_store *s, const char *name, int64_t now, const uint8_t *audit_key,
                     void (*say)(void *ud, const char *message), void *say_ud, tm_lease_hold **out,
                     struct tm_err *err);

/* Renews the lease at `now`; call inside the holder's write transaction, so
 * the renewal commits with the work. TM_EBUSY when the lease is no longer
 * ours (`err` says so: the work must stop), TM_ESTORE. NULL h: TM_OK. */
int tm_lease_renew(tm_lease_hold *h, int64_t now, struct tm_err *err);

/* Releases the lease (when still ours) and frees `h` in any case; NULL is
 * allowed (TM_OK). TM_ESTORE when the store could not be written: the lease
 * stays behind and the next holder takes it over (this process is gone by
 * then). */
int tm_lease_release(tm_lease_hold *h, struct tm_err *err);

#endif
