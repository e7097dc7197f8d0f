// What this machine and build offer, as one JSON object (kiln info --json, kiln.info()).
#pragma once

#include <cjson/cJSON.h>

#include "backends/backend.h"
#include "backends/cpu/topology.h"

// Needs kiln_init() done; the caller deletes the object.
cJSON *kiln_info_to_json(const struct kiln_topology_info *t);
// Kernel-table rows of `dev` this CPU/GPU can run.
int kiln_usable_kernels(const struct kiln_device *dev);
