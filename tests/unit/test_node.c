/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Node pressure's figures: the threshold, how often MemAvailable is read,
 * and the trigger in words and JSON. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <string.h>

#include "cgsentry/supervise.h"
#include "format.h"

#define MIB (1024ull * 1024)

static void test_threshold(void **state)
{
        assert_int_equal(sv_node_threshold(2048 * MIB, 0, 1000), 2048 * MIB / 10);
        /* A size wins over a percentage; nothing set is no threshold. */
        assert_int_equal(sv_node_threshold(2048 * MIB, 300 * MIB, 1000), 300 * MIB);
        assert_int_equal(sv_node_threshold(2048 * MIB, 0, 0), 0);
        assert_int_equal(sv_node_threshold(UINT64_MAX, 0, 5000), UINT64_MAX / 2);
}

static void test_poll_interval_follows_the_headroom(void **state)
{
        /* At or below the line, and close to it: as often as allowed. */
        assert_int_equal(sv_node_poll_msec(100 * MIB, 200 * MIB), SV_NODE_POLL_MIN_MSEC);
        assert_int_equal(sv_node_poll_msec(200 * MIB, 200 * MIB), SV_NODE_POLL_MIN_MSEC);
        assert_int_equal(sv_node_poll_msec(300 * MIB, 200 * MIB), SV_NODE_POLL_MIN_MSEC);
        /* 1 GiB/s eats 600 MiB in 600 ms: read again after half of it. */
        assert_int_equal(sv_node_poll_msec(800 * MIB, 200 * MIB), 300);
        /* Plenty of room: once a second. */
        assert_int_equal(sv_node_poll_msec(64000 * MIB, 200 * MIB), SV_NODE_POLL_MAX_MSEC);
        assert_int_equal(sv_node_poll_msec(UINT64_MAX, 0), SV_NODE_POLL_MAX_MSEC);
}

static void test_trigger_in_words_and_json(void **state)
{
        struct sv_trigger t = { .kind = SV_TRIGGER_NODE_PRESSURE, .mem_total = 2048 * MIB,
                                .mem_available = 150 * MIB, .available_min = 204 * MIB };
        char buf[1024];
        json_object *o;

        assert_string_equal(sv_trigger_name(t.kind), "node-pressure");
        sv_trigger_describe(&t, buf, sizeof(buf));
        assert_string_equal(buf, "the node's MemAvailable 150 MiB = 7% of MemTotal 2.0 GiB is "
                                 "below NodeMemoryAvailable= 204 MiB");
        o = sv__json_trigger(&t);
        assert_string_equal(json_object_get_string(json_object_object_get(o, "source")),
                            "memavailable");
        assert_int_equal(json_object_get_uint64(json_object_object_get(o, "available_min")),
                         204 * MIB);
        json_object_put(o);

        t.node_psi = true;
        t.stall_usec = 100000;
        t.window_usec = 1000000;
        t.psi.some.avg10 = 12.5;
        sv_trigger_describe(&t, buf, sizeof(buf));
        assert_non_null(strstr(buf, "the node's memory pressure trigger \"some 100000 1000000\" "
                                    "fired: tasks stalled on memory for 100 ms of a 1000 ms "
                                    "window node-wide; some avg10 12.50%"));
        o = sv__json_trigger(&t);
        assert_string_equal(json_object_get_string(json_object_object_get(o, "psi_trigger")),
                            "some 100000 1000000");
        json_object_put(o);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_threshold),
                cmocka_unit_test(test_poll_interval_follows_the_headroom),
                cmocka_unit_test(test_trigger_in_words_and_json),
        };
        return cmocka_run_group_tests_name("node", tests, NULL, NULL);
}
