// fp16/bf16 conversions: the scalar reference against an independent formulation (exact
// rational rounding done in double), the F16C path against the scalar one, and the special
// values the spec names (spec/ggml-formats.md §1.1).
#include <math.h>
#include <string.h>

#include "backends/cpu/cpu_features.h"
#include "quant/format/fp16.h"
#include "tests/check.h"

// Independent f32 -> f16 RNE: pick the nearest representable half by exhaustive comparison of
// the two candidates around x, in double (exact for every float).
static uint16_t f16_oracle(float x) {
    if (isnan(x))
        return (uint16_t)((signbit(x) ? 0x8000 : 0) | 0x7E00);
    const uint16_t sign = signbit(x) ? 0x8000 : 0;
    const double a = fabs((double)x);
    if (a >= 65520.0)
        return sign | 0x7C00;
    // Halves are monotonic in their bit patterns for non-negative values: binary search the
    // largest h with value(h) <= a, then round between h and h+1.
    uint16_t lo = 0, hi = 0x7BFF;
    while (lo < hi) {
        const uint16_t mid = (uint16_t)((lo + hi + 1) / 2);
        if ((double)kiln_f16_to_f32(mid) <= a)
            lo = mid;
        else
            hi = (uint16_t)(mid - 1);
    }
    const double below = kiln_f16_to_f32(lo);
    if (below == a || lo == 0x7BFF)
        return sign | lo;
    const double above = kiln_f16_to_f32((uint16_t)(lo + 1));
    const double d_lo = a - below, d_hi = above - a;
    const uint16_t pick = d_lo < d_hi ? lo : d_hi < d_lo ? (uint16_t)(lo + 1) : (lo & 1 ? (uint16_t)(lo + 1) : lo);
    return sign | pick;
}

// Independent f16 -> f32: the formula value = (-1)^s * 2^(e-15) * (1 + m/1024), in double.
static double f16_value(uint16_t h) {
    const int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
    double v = e == 0 ? ldexp(m, -24) : ldexp(1.0 + m / 1024.0, e - 15);
    return s ? -v : v;
}

int main(void) {
    // Every half: f16 -> f32 exact, and back to the same bits (NaN to a NaN).
    int bad_exact = 0, bad_round_trip = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        const float f = kiln_f16_to_f32((uint16_t)h);
        const int e = (h >> 10) & 31;
        if (e == 31) {
            if ((h & 1023) ? !isnan(f) : !isinf(f))
                bad_exact++;
            continue;
        }
        bad_exact += (double)f != f16_value((uint16_t)h);
        bad_round_trip += kiln_f32_to_f16(f) != h;
    }
    CHECK(bad_exact == 0, "%d halves convert to the wrong float", bad_exact);
    CHECK(bad_round_trip == 0, "%d halves do not round-trip", bad_round_trip);

    // Every 251st float bit pattern against the oracle (~17M patterns, all exponents).
    int bad_rne = 0;
    uint32_t first_bad = 0;
    for (uint64_t b = 0; b <= 0xFFFFFFFFull; b += 251) {
        const float x = kiln_bits_to_f32((uint32_t)b);
        const uint16_t got = kiln_f32_to_f16(x), want = f16_oracle(x);
        if (got != want && !bad_rne++)
            first_bad = (uint32_t)b;
    }
    CHECK(bad_rne == 0, "%d floats round wrongly to f16, first 0x%08x", bad_rne, first_bad);

    // Spec §1.1 specials.
    CHECK(kiln_f32_to_f16(65519.0f) == 0x7BFF, "65519 -> max half");
    CHECK(kiln_f32_to_f16(65520.0f) == 0x7C00, "65520 -> inf");
    CHECK(kiln_f32_to_f16(-INFINITY) == 0xFC00, "-inf");
    CHECK(kiln_f32_to_f16(-NAN) == 0xFE00, "-NaN keeps its sign, payload dropped: 0x%04x",
          kiln_f32_to_f16(-NAN));
    CHECK(kiln_f32_to_f16(5.9604645e-08f) == 0x0001, "smallest subnormal");
    CHECK(kiln_f32_to_f16(2.9802322e-08f) == 0x0000, "half of the smallest subnormal ties to 0");
    CHECK(kiln_f32_to_f16(8.940697e-08f) == 0x0002, "1.5 subnormal units tie to even (2)");

    // bf16: RNE on the top half; NaN quiet; the rule written independently here.
    int bad_bf16 = 0;
    for (uint64_t b = 0; b <= 0xFFFFFFFFull; b += 4099) {
        const uint32_t bits = (uint32_t)b;
        const float x = kiln_bits_to_f32(bits);
        const uint16_t got = kiln_f32_to_bf16(x);
        if (isnan(x)) {
            bad_bf16 += !isnan(kiln_bf16_to_f32(got)) || (got >> 15) != (bits >> 31);
            continue;
        }
        const uint32_t lower = bits & 0xFFFF, upper = bits >> 16;
        const uint32_t want = lower > 0x8000 || (lower == 0x8000 && (upper & 1)) ? upper + 1 : upper;
        bad_bf16 += got != (uint16_t)want;
    }
    CHECK(bad_bf16 == 0, "%d floats round wrongly to bf16", bad_bf16);

    // F16C rows equal the scalar reference for every non-NaN half and many floats.
    if (kiln_cpu_has(KILN_CPU_F16C)) {
        static uint16_t h[65536], h2[65536];
        static float f[65536], f2[65536];
        for (int i = 0; i < 65536; i++)
            h[i] = (uint16_t)i;
        kiln_f16_to_f32_row_f16c(h, f, 65536);
        int bad = 0;
        for (int i = 0; i < 65536; i++) {
            const float want = kiln_f16_to_f32(h[i]);
            bad += isnan(want) ? !isnan(f[i]) : memcmp(&want, &f[i], 4) != 0;
        }
        CHECK(bad == 0, "%d halves differ between F16C and scalar", bad);
        uint32_t s = 12345;
        for (int i = 0; i < 65536; i++) {
            s = s * 1664525u + 1013904223u;
            f2[i] = kiln_bits_to_f32(s);
            if (isnan(f2[i]))
                f2[i] = 1.0f;
        }
        kiln_f32_to_f16_row_f16c(f2, h2, 65536);
        bad = 0;
        for (int i = 0; i < 65536; i++)
            bad += h2[i] != kiln_f32_to_f16(f2[i]);
        CHECK(bad == 0, "%d floats differ between F16C and scalar f16 rounding", bad);
    } else {
        printf("note: no F16C on this CPU; F16C comparison not run\n");
    }
    return test_finish("test_fp16");
}
