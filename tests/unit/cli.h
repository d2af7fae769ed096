/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Running the real cgsentry binary from a cmocka test: its exit status,
 * stdout and stderr. Include after cmocka; needs CGSENTRY_BIN.
 */
#ifndef CGSENTRY_TEST_CLI_H
#define CGSENTRY_TEST_CLI_H

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct run {
        int status;
        char *out, *err;
};

static inline char *slurp(const char *path)
{
        FILE *f = fopen(path, "re");
        char *text = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&text, &len);
        char chunk[4096];
        size_t n;

        assert_non_null(f);
        assert_non_null(m);
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
                fwrite(chunk, 1, n, m);
        fclose(f);
        fclose(m);
        return text;
}

/* Run cgsentry with @args, capturing stdout and stderr. */
static inline struct run run(const char *args)
{
        char out[] = "/tmp/cgsentry-test-outXXXXXX", err[] = "/tmp/cgsentry-test-errXXXXXX";
        char *cmd;
        struct run r;
        int fo = mkstemp(out), fe = mkstemp(err), st;

        assert_true(fo >= 0 && fe >= 0);
        assert_true(asprintf(&cmd, "%s %s >%s 2>%s", CGSENTRY_BIN, args, out, err) > 0);
        st = system(cmd);
        assert_true(WIFEXITED(st));
        r.status = WEXITSTATUS(st);
        r.out = slurp(out);
        r.err = slurp(err);
        unlink(out);
        unlink(err);
        close(fo);
        close(fe);
        free(cmd);
        return r;
}

static inline void run_free(struct run *r)
{
        free(r->out);
        free(r->err);
}

static inline json_object *get(json_object *o, const char *key)
{
        json_object *v = NULL;
        assert_true(json_object_object_get_ex(o, key, &v));
        return v;
}

#endif
