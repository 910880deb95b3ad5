/*
 * tests/unit/test_progress_line.c: the import's progress bar on a terminal
 * (tm_cli_progress_line): how much is read, the rows read, rows per second
 * and the time left from the bytes still to read.
 */
#include "harness.h"

#include <string.h>

#include "cli.h"

TEST(progress_shows_rows_per_second_and_time_left)
{
    char line[200];
    /* A quarter of 40 MB in 10 s, 250,000 rows: 30 s left. */
    tm_cli_progress_line(line, sizeof line, 10000000, 40000000, 250000, 10.0);
    ASSERT(strcmp(line, "[#######.......................]  25% 10.0 MB 250000 rows 25000 rows/s 0:30 left") == 0);
    /* Hours once there is an hour or more to go. */
    tm_cli_progress_line(line, sizeof line, 1000000, 1000000000, 10000, 4.0);
    ASSERT(strstr(line, " 2500 rows/s 1:06:36 left") != NULL);
}

TEST(progress_without_a_size_or_a_time_says_what_it_knows)
{
    char line[200];
    /* From a pipe: no size, no percentage, no time left. */
    tm_cli_progress_line(line, sizeof line, 5200000, 0, 40000, 2.0);
    ASSERT(strcmp(line, "5.2 MB read 40000 rows 20000 rows/s") == 0);
    /* At the start: no rate from nothing. */
    tm_cli_progress_line(line, sizeof line, 0, 1000, 0, 0.0);
    ASSERT(strcmp(line, "[..............................]   0% 0.0 MB 0 rows") == 0);
    /* Done: no time left. */
    tm_cli_progress_line(line, sizeof line, 1000, 1000, 10, 1.0);
    ASSERT(strstr(line, "100%") != NULL && strstr(line, "left") == NULL);
}

TEST(progress_line_is_cut_to_the_room_given)
{
    char small[12];
    memset(small, 'x', sizeof small);
    tm_cli_progress_line(small, sizeof small, 10000000, 40000000, 250000, 10.0);
    ASSERT_EQ(strlen(small), sizeof small - 1);
    ASSERT(strncmp(small, "[#######...", 11) == 0);
}
