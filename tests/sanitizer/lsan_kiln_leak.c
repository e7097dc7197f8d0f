// A deliberate leak in kiln's own code, for lsan_kiln_leak_fails (expect_leak.sh): the backends
// are brought up (on a machine with lavapipe, the Vulkan loader and Mesa are loaded, so the
// foreign-library suppressions of tests/sanitizer/lsan.supp are in play) and then a GGUF writer
// made by kiln_gguf_writer_new is dropped. LeakSanitizer must report it and fail the process:
// the suppressions hide the Vulkan stack only, never kiln's.
#include <stdio.h>

#include "backends/backend.h"
#include "quant/file/gguf.h"

int main(void) {
    if (kiln_init(NULL) != KILN_OK) {
        fprintf(stderr, "kiln_init: %s\n", kiln_last_error());
        return 2;
    }
    struct kiln_gguf_writer *w = kiln_gguf_writer_new();
    kiln_gguf_add_u32(w, "leak.canary", 1);
    printf("leaking a writer at %p with %d devices up\n", (void *)w, kiln_device_count());
    w = NULL;
    kiln_shutdown();
    return 0;
}
