// Command-line helpers (args.h).
#include "cli/args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool kiln_arg_value(int argc, char **argv, int *i, const char *name, const char **value, bool *error) {
    const char *arg = argv[*i];
    const size_t len = strlen(name);
    if (strncmp(arg, name, len) != 0)
        return false;
    if (arg[len] == '=') {
        *value = arg + len + 1;
        return true;
    }
    if (arg[len] != '\0')
        return false;
    if (*i + 1 >= argc) {
        fprintf(stderr, "kiln: %s needs a value\n", name);
        *error = true;
        return true;
    }
    *value = argv[++*i];
    return true;
}

bool kiln_arg_int(const char *cmd, const char *name, const char *text, long min, long max, long *out) {
    char *end;
    errno = 0;
    const long v = strtol(text, &end, 10);
    if (errno || end == text || *end != '\0' || v < min || v > max) {
        fprintf(stderr, "kiln %s: %s expects an integer in [%ld, %ld], got '%s'\n", cmd, name, min,
                max, text);
        return false;
    }
    *out = v;
    return true;
}

int kiln_common_option(const char *cmd, int argc, char **argv, int *i, struct kiln_common_options *o) {
    const char *value = NULL;
    bool error = false;
    if (kiln_arg_value(argc, argv, i, "--threads", &value, &error)) {
        long n;
        if (error || !kiln_arg_int(cmd, "--threads", value, 0, 1024, &n))
            return -1;
        o->init.n_threads = (int)n;
        return 1;
    }
    if (kiln_arg_value(argc, argv, i, "--backend", &value, &error)) {
        if (error)
            return -1;
        o->backends = value;
        return 1;
    }
    if (strcmp(argv[*i], "--no-pin") == 0) {
        o->init.no_pin = true;
        return 1;
    }
    return 0;
}

bool kiln_common_option_or_usage(const char *cmd, int argc, char **argv, int *i, struct kiln_common_options *o) {
    const int r = kiln_common_option(cmd, argc, argv, i, o);
    if (r == 0)
        fprintf(stderr, "kiln %s: %s '%s' (see kiln %s --help)\n", cmd,
                argv[*i][0] == '-' ? "unknown option" : "unexpected argument", argv[*i], cmd);
    return r > 0;
}

bool kiln_start(const char *cmd, const struct kiln_common_options *o) {
    if (kiln_init(&o->init) != KILN_OK) {
        fprintf(stderr, "kiln %s: %s\n", cmd, kiln_last_error());
        return false;
    }
    return true;
}

bool kiln_device_selected(const struct kiln_common_options *o, const struct kiln_device *dev) {
    const struct kiln_device_info *info = kiln_device_info(dev);
    return kiln_list_has(o->backends, info->name) || kiln_list_has(o->backends, info->backend);
}

// Benchmarks leave emulated devices (lavapipe: Vulkan on the CPU) out unless --backend names
// them: timing one by default would take hours on a 7B model and measure nothing a deployment
// runs on, while competing with the CPU being measured.
bool kiln_device_selected_for_timing(const char *cmd, const struct kiln_common_options *o,
                                     const struct kiln_device *dev) {
    const struct kiln_device_info *info = kiln_device_info(dev);
    if (!o->backends && info->emulated) {
        fprintf(stderr, "kiln %s: %s (%s) emulates a GPU on the CPU: not timed unless --backend names it\n",
                cmd, info->name, info->description);
        return false;
    }
    return kiln_device_selected(o, dev);
}
