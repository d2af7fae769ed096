/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cgsentry policies: which policies exist, where they come from, which files are broken. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "cgsentry.h"
#include "policy-host.h"

static void policies_usage(FILE *out)
{
        fprintf(out,
                "Usage: cgsentry policies [OPTIONS]\n"
                "\n"
                "List the victim selection policies: the builtin ones and every\n"
                "cgsentry-policy-NAME.so plugin of the policy directory, with their versions,\n"
                "ABI and where they were loaded from. Plugins that cannot be loaded are listed\n"
                "with the reason. See cgsentry-policies(7).\n"
                "\n"
                "Options:\n"
                "  --json             print one JSON object\n"
                "  --policy-dir DIR   plugin directory (default %s)\n"
                "  -h, --help         show this help\n",
                sv_policy_default_dir());
}

/* An earlier entry of the same name wins lookups (the builtin kernel). */
static bool shadowed(const struct sv_policy_registry *reg, size_t i, const char *name)
{
        for (size_t k = 0; k < i; k++) {
                struct sv_policy_info o;
                if (sv_policy_registry_info(reg, k, &o) == 0 && o.name && strcmp(o.name, name) == 0)
                        return true;
        }
        return false;
}

static int print_json(const struct sv_policy_registry *reg, int scan_error)
{
        json_object *root = json_object_new_object(), *list = json_object_new_array(),
                    *broken = json_object_new_array();
        const char *text;
        int r = 0;

        if (!root || !list || !broken) {
                json_object_put(root);
                json_object_put(list);
                json_object_put(broken);
                return -ENOMEM;
        }
        json_object_object_add(root, "directory",
                               json_object_new_string(sv_policy_registry_dir(reg)));
        json_object_object_add(root, "directory_error",
                               scan_error < 0 ? json_object_new_string(strerror(-scan_error))
                                              : NULL);
        for (size_t i = 0; i < sv_policy_registry_size(reg); i++) {
                struct sv_policy_info info;
                json_object *o = json_object_new_object();
                char abi[32];

                sv_policy_registry_info(reg, i, &info);
                if (!info.name) {
                        json_object_object_add(o, "path", json_object_new_string(info.path));
                        json_object_object_add(o, "error", json_object_new_string(info.error));
                        json_object_array_add(broken, o);
                        continue;
                }
                snprintf(abi, sizeof(abi), "%u.%u", info.abi_major, info.abi_minor);
                json_object_object_add(o, "name", json_object_new_string(info.name));
                json_object_object_add(o, "version", json_object_new_string(info.version));
                json_object_object_add(o, "abi", json_object_new_string(abi));
                json_object_object_add(o, "description", json_object_new_string(info.description));
                json_object_object_add(o, "builtin", json_object_new_boolean(info.builtin));
                json_object_object_add(o, "path",
                                       info.path ? json_object_new_string(info.path) : NULL);
                json_object_object_add(o, "shadowed",
                                       json_object_new_boolean(shadowed(reg, i, info.name)));
                json_object_array_add(list, o);
        }
        json_object_object_add(root, "policies", list);
        json_object_object_add(root, "broken", broken);
        text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
                                                            JSON_C_TO_STRING_SPACED |
                                                            JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!text || printf("%s\n", text) < 0)
                r = -EIO;
        json_object_put(root);
        return r;
}

static void print_text(const struct sv_policy_registry *reg, int scan_error)
{
        printf("%-12s %-10s %-4s %s\n", "POLICY", "VERSION", "ABI", "FROM");
        for (size_t i = 0; i < sv_policy_registry_size(reg); i++) {
                struct sv_policy_info info;

                sv_policy_registry_info(reg, i, &info);
                if (!info.name)
                        continue;
                printf("%-12s %-10s %u.%-2u %s%s\n", info.name, info.version, info.abi_major,
                       info.abi_minor, info.builtin ? "builtin" : info.path,
                       shadowed(reg, i, info.name) ? " (shadowed by the builtin)" : "");
                printf("%-12s %s\n", "", info.description);
        }
        if (scan_error < 0)
                printf("\nPolicy directory %s: %s\n", sv_policy_registry_dir(reg),
                       strerror(-scan_error));
        for (size_t i = 0; i < sv_policy_registry_size(reg); i++) {
                struct sv_policy_info info;

                sv_policy_registry_info(reg, i, &info);
                if (info.name)
                        continue;
                printf("\nBroken: %s\n        %s\n", info.path, info.error);
        }
}

int cgsentry_cmd_policies(int argc, char **argv)
{
        enum { OPT_POLICY_DIR = 256 };
        static const struct option options[] = {
                {"json", no_argument, NULL, 'j'},
                {"policy-dir", required_argument, NULL, OPT_POLICY_DIR},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        struct sv_policy_registry *reg = NULL;
        const char *dir = NULL;
        bool json = false;
        int c, r, scan;

        optind = 1;
        while ((c = getopt_long(argc, argv, "hj", options, NULL)) >= 0) {
                switch (c) {
                case 'j':
                        json = true;
                        break;
                case OPT_POLICY_DIR:
                        dir = optarg;
                        break;
                case 'h':
                        policies_usage(stdout);
                        return CGSENTRY_EXIT_OK;
                default:
                        policies_usage(stderr);
                        return CGSENTRY_EXIT_ERROR;
                }
        }
        if (optind != argc) {
                fputs("cgsentry policies: unexpected argument\n", stderr);
                policies_usage(stderr);
                return CGSENTRY_EXIT_ERROR;
        }

        r = sv_policy_registry_new(dir, &reg);
        if (r < 0) {
                fprintf(stderr, "cgsentry policies: %s\n", strerror(-r));
                return CGSENTRY_EXIT_ERROR;
        }
        /* A missing directory is normal (nothing installed): say so, list the builtins. */
        scan = sv_policy_registry_scan(reg);
        if (scan == -ENOMEM) {
                fprintf(stderr, "cgsentry policies: %s\n", strerror(ENOMEM));
                sv_policy_registry_free(reg);
                return CGSENTRY_EXIT_ERROR;
        }
        if (json) {
                r = print_json(reg, scan);
        } else {
                print_text(reg, scan);
                r = 0;
        }
        if (fflush(stdout) != 0)
                r = -EIO;
        sv_policy_registry_free(reg);
        return r < 0 ? CGSENTRY_EXIT_ERROR : CGSENTRY_EXIT_OK;
}
