// Graph capture's rules in the dispatch layer (backends/registry.c), on a fake device that has
// the CPU's memory and streams and a capture that records nothing: while a stream captures,
// upload, download and sync are refused with an error that says what to do (a graph replays
// kernels, not host copies), and after the capture ends they work again.
#include <string.h>

#include "backends/backend_impl.h"
#include "tests/check.h"
#include "tests/fake_device.h"

static int begun, ended;
static enum kiln_status fake_begin(struct kiln_stream *s) { (void)s; begun++; return KILN_OK; }
static enum kiln_status fake_end(struct kiln_stream *s, bool run) { (void)s; (void)run; ended++; return KILN_OK; }

int main(void) {
    if (kiln_init(&(struct kiln_init_options){ .backends = "cpu" }) != KILN_OK)
        return 1;
    struct kiln_device *fake = fake_device_from_cpu("fake-capture");
    CHECK(fake != NULL, "no cpu device");
    fake_iface.capture_begin = fake_begin;
    fake_iface.capture_end = fake_end;
    CHECK(kiln_device_add(fake) == KILN_OK, "%s", kiln_last_error());
    struct kiln_stream *s;
    struct kiln_buffer *b;
    CHECK(kiln_stream_new(fake, &s) == KILN_OK, "%s", kiln_last_error());
    CHECK(kiln_buffer_alloc(fake, 64, &b) == KILN_OK, "%s", kiln_last_error());
    char host[64] = "before";
    CHECK(kiln_buffer_upload(s, b, 0, host, sizeof host) == KILN_OK, "upload outside a capture");

    CHECK(kiln_stream_capture_begin(s) == KILN_OK && begun == 1, "capture begins");
    CHECK(kiln_buffer_upload(s, b, 0, host, sizeof host) == KILN_E_INVALID &&
              strstr(kiln_last_error(), "upload during a graph capture"),
          "upload refused while capturing (%s)", kiln_last_error());
    CHECK(kiln_buffer_download(s, b, 0, host, sizeof host) == KILN_E_INVALID &&
              strstr(kiln_last_error(), "download during a graph capture"),
          "download refused while capturing (%s)", kiln_last_error());
    CHECK(kiln_stream_sync(s) == KILN_E_INVALID, "sync refused while capturing");
    CHECK(kiln_stream_capture_end(s, true) == KILN_OK && ended == 1, "capture ends");

    char back[64] = "";
    CHECK(kiln_buffer_download(s, b, 0, back, sizeof back) == KILN_OK && kiln_stream_sync(s) == KILN_OK &&
              strcmp(back, "before") == 0,
          "after the capture, download works and sees the upload made before it");
    kiln_buffer_free(b);
    kiln_stream_free(s);
    kiln_shutdown();
    return test_finish("test_capture");
}
