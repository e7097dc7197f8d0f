// libkiln.so through its public header only (api/kiln.h, linked against the shared library, not
// kiln_core): the calls, their JSON, the errors every bad argument gets, and that internal
// symbols stay hidden (api/libkiln.map).
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "api/kiln.h"
#include "check.h"

int main(void) {
    CHECK(kiln_api_version() == KILN_API_VERSION, "version %d", kiln_api_version());
    CHECK(strstr(kiln_api_build(), "(") != NULL, "build '%s'", kiln_api_build());
    char *out = NULL;
    CHECK(kiln_api_info("{\"backend\":\"cpu\"}", &out) == 0, "info: %s", kiln_last_error());
    CHECK(out && strstr(out, "\"isa_features\""), "info JSON: %s", out ? out : "(null)");
    kiln_api_free(out);
    // bad options: a one-line error naming what is wrong, nothing returned
    CHECK(kiln_api_info("[1]", &out) < 0 && !out && strstr(kiln_last_error(), "not a JSON object"), "%s",
          kiln_last_error());
    CHECK(kiln_api_info("{\"threads\":\"two\"}", &out) < 0 && strstr(kiln_last_error(), "'threads' must be an integer"),
          "%s", kiln_last_error());
    CHECK(kiln_api_bench_ops("{\"op\":\"matmul\",\"repetitons\":3}", &out) < 0 &&
          strstr(kiln_last_error(), "unknown option 'repetitons'"), "%s", kiln_last_error());
    CHECK(kiln_api_inspect(NULL, NULL, &out) < 0, "inspect(NULL)");
    CHECK(kiln_api_compare(NULL, "x", NULL, &out) < 0, "compare(NULL)");
    CHECK(kiln_api_model_logits(NULL, NULL, 0, NULL, 0) < 0 && strstr(kiln_last_error(), "closed"), "%s",
          kiln_last_error());
    kiln_api_model_close(NULL);
    CHECK(kiln_api_bench_model("{\"model\":\"/nonexistent.gguf\"}", &out) < 0 &&
          strstr(kiln_last_error(), "no such file"), "%s", kiln_last_error());
    // a real benchmark: one Google Benchmark document
    CHECK(kiln_api_bench_ops("{\"op\":\"dequant\",\"type\":\"q8_0\",\"shape\":\"k=256,m=16\",\"repetitions\":2,"
                             "\"min_time\":0.001,\"roofline\":false,\"backend\":\"cpu\"}", &out) == 0,
          "bench_ops: %s", kiln_last_error());
    CHECK(out && strstr(out, "\"run_name\":\"dequant/q8_0/cpu/out:f32/k:256/rows:16\""), "bench JSON: %.200s", out ? out : "");
    kiln_api_free(out);
    // only the public names are exported
    void *self = dlopen(NULL, RTLD_NOW);
    CHECK(dlsym(self, "kiln_api_info") != NULL, "kiln_api_info not exported");
    CHECK(dlsym(self, "kiln_matmul") != NULL, "kiln_matmul (ops.h) not exported");
    CHECK(dlsym(self, "kiln_gb_load") == NULL, "internal kiln_gb_load exported");
    CHECK(dlsym(self, "kiln_history_append") == NULL, "internal kiln_history_append exported");
    dlclose(self);
    return test_finish("test_api");
}
