/*
 * core/tz.h: IANA time zones read from the system tz database (TZif files).
 *
 * Zones are loaded once per process from $TZDIR (default /usr/share/zoneinfo) and cached;
 * lookups never touch the process TZ, tzset() or localtime(). All functions are
 * thread-safe. Times are POSIX seconds (int64, leap seconds not counted) and offsets are
 * seconds east of UTC. Depends on core/calendar.
 */
#ifndef TM_TZ_H
#define TM_TZ_H

#include <stdint.h>

#include "tm_status.h"

typedef struct tm_zone tm_zone;

/* A local civil time. tm_tz_to_local() fills every field; tm_tz_from_local() reads only
 * year..sec. month 1-12, day 1-31, hour 0-23, min 0-59, sec 0-59. */
typedef struct tm_civil {
    int year, month, day, hour, min, sec;
    int wday;   /* 0 = Sunday */
    int yday;   /* 0 = January 1 */
    int offset; /* seconds east of UTC */
    int is_dst;
} tm_civil;

/* Instants accepted by the conversion functions: 0000-01-01T00:00:00Z through
 * 9999-12-31T23:59:59Z, the years an RFC 3339 timestamp can name. Outside this range they
 * return TM_EINVAL. */
#define TM_TZ_UTC_MIN INT64_C(-62167219200)
#define TM_TZ_UTC_MAX INT64_C(253402300799)

/* Which instant tm_tz_from_local() picks when a local time occurs twice. */
enum { TM_TZ_EARLIER = 0, TM_TZ_LATER = 1 };

/* Loads (first call) or finds (later calls) the zone `name`, e.g. "America/New_York", from
 * $TZDIR or /usr/share/zoneinfo. On success *out is a borrowed pointer valid for the life of
 * the process; never free it.
 * Errors (message in `err`, which may be NULL; *out is left untouched):
 *   TM_EINVAL  name NULL, empty, longer than 255, absolute, containing "..", an empty
 *              component or a character outside [A-Za-z0-9_+-/]; or a malformed TZif file
 *              (truncated, bad counts or values, bad footer TZ string, leap-second records).
 *   TM_ENOENT  no such zone (also "localtime"/"posixrules", which depend on host setup, and
 *              directories such as "America").
 *   TM_EIO     the file exists but cannot be read.
 *   TM_ENOMEM  out of memory.
 * Failures are not cached, so a zone installed later can still be loaded. The cache keys on
 * the full path, so changing TZDIR at run time loads zones afresh from the new directory. */
int tm_tz_get(const char *name, const tm_zone **out, struct tm_err *err);

/* The name the zone was loaded under (borrowed, lives as long as the zone). NULL for NULL. */
const char *tm_tz_name(const tm_zone *z);

/* UTC offset (seconds east) and DST flag in effect at `utc`. Either out pointer may be
 * NULL. TM_EINVAL if z is NULL or utc is outside [TM_TZ_UTC_MIN, TM_TZ_UTC_MAX]. */
int tm_tz_offset_at(const tm_zone *z, int64_t utc, int *offset, int *is_dst);

/* Local civil time of `utc` in z. TM_EINVAL if z or out is NULL or utc is out of range
 * (then *out is zeroed). */
int tm_tz_to_local(const tm_zone *z, int64_t utc, tm_civil *out);

/* Local civil time -> UTC, reading local->year..sec only.
 * In a gap (clocks skipped ahead) the time is read with the offset in force before the gap,
 * which moves it forward by the gap length: 02:30 on 2026-03-08 in America/New_York gives
 * 07:30Z, which is 03:30 EDT. In an overlap (clocks set back, the hour repeats)
 * `which` = TM_TZ_EARLIER or TM_TZ_LATER picks the first or second occurrence.
 * TM_EINVAL (message in `err`, may be NULL) for a NULL argument, a bad `which`, a year outside
 * 0000-9999, an impossible date or time (2026-02-30, 24:00, second 60) or a result outside
 * [TM_TZ_UTC_MIN, TM_TZ_UTC_MAX]. */
int tm_tz_from_local(const tm_zone *z, const tm_civil *local, int which, int64_t *utc,
                     struct tm_err *err);

/* The first instant strictly after `utc` at which the offset or the DST flag changes.
 * TM_OK with *when set; TM_ENOENT if the zone never changes again (fixed offset from then on,
 * e.g. America/Phoenix after 1968); TM_EINVAL for NULL arguments or utc out of range.
 * The returned instant itself may lie beyond TM_TZ_UTC_MAX. */
int tm_tz_next_transition(const tm_zone *z, int64_t utc, int64_t *when);

/* Every tz zone used anywhere in a US state, DC, territory or freely associated state, by
 * USPS code (case-sensitive, upper case): "TX" -> America/Chicago, America/Denver. Includes
 * areas that keep another zone's time by custom (Phenix City AL on Eastern, Kenton OK on
 * Mountain), because a contact must be allowed in every zone the consumer may be in.
 * Returns a static NULL-terminated array of canonical zone names, or NULL for an unknown
 * code (NULL input included). */
const char *const *tm_tz_state_zones(const char *usps);

/* Static NULL-terminated list of the USPS codes tm_tz_state_zones() knows. */
const char *const *tm_tz_state_codes(void);

#endif
