// A fake device for dispatch-layer tests: the CPU device's memory, streams and kernels behind a
// copy of its interface, which a test then edits (a launch that injects faults, a capture that
// records nothing). Needs kiln_init with the cpu backend first. One per test program.
#ifndef KILN_TESTS_FAKE_DEVICE_H
#define KILN_TESTS_FAKE_DEVICE_H

#include <stdio.h>

#include "backends/backend_impl.h"

static struct kiln_device_iface fake_iface;
static struct kiln_device fake_device;

// Returns the fake device (not yet added) whose interface is fake_iface, a copy of the CPU's;
// NULL when the CPU backend is absent.
static inline struct kiln_device *fake_device_from_cpu(const char *name) {
    struct kiln_device *cpu = kiln_device_find("cpu");
    if (!cpu)
        return NULL;
    fake_iface = *cpu->iface;
    fake_iface.device_free = NULL;  // static storage: nothing to free at shutdown
    fake_device.iface = &fake_iface;
    snprintf(fake_device.info.name, sizeof fake_device.info.name, "%s", name);
    fake_device.info.backend = "fake";
    fake_device.info.host_memory = true;
    return &fake_device;
}

#endif
