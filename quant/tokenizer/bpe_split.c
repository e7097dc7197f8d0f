// Pre-tokenizer splitting for byte-level BPE (bpe_split.h).
#include "quant/tokenizer/bpe_split.h"
#include "quant/tokenizer/unicode_tables.h"

static bool in_ranges(const uint32_t (*r)[2], size_t n, uint32_t cp) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        const size_t mid = (lo + hi) / 2;
        if (cp < r[mid][0])
            hi = mid;
        else if (cp > r[mid][1])
            lo = mid + 1;
        else
            return true;
    }
    return false;
}
#define IN(table, cp) in_ranges(table, sizeof table / sizeof table[0], cp)

bool kiln_unicode_is_letter(uint32_t cp) { return cp < 0x80 ? (cp | 0x20) - 'a' < 26 : IN(kiln_unicode_letter, cp); }
bool kiln_unicode_is_number(uint32_t cp) { return cp < 0x80 ? cp - '0' < 10 : IN(kiln_unicode_number, cp); }
bool kiln_unicode_is_space(uint32_t cp) { return IN(kiln_unicode_space, cp); }

static bool is_nl(uint32_t c) { return c == '\r' || c == '\n'; }
static bool is_other(uint32_t c) {  // [^\s\p{L}\p{N}]
    return !kiln_unicode_is_space(c) && !kiln_unicode_is_letter(c) && !kiln_unicode_is_number(c);
}
static uint32_t lower_ascii(uint32_t c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

// 's 't 're 've 'm 'll 'd at i: the length, 0 if none (case-insensitive for llama-bpe/qwen2).
static size_t contraction(const uint32_t *cp, size_t n, size_t i, bool fold) {
    if (cp[i] != '\'' || i + 1 >= n)
        return 0;
    const uint32_t a = fold ? lower_ascii(cp[i + 1]) : cp[i + 1];
    if (a == 's' || a == 't' || a == 'm' || a == 'd')
        return 2;
    if (i + 2 < n) {
        const uint32_t b = fold ? lower_ascii(cp[i + 2]) : cp[i + 2];
        if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
            return 3;
    }
    return 0;
}

static size_t run(const uint32_t *cp, size_t n, size_t i, bool (*pred)(uint32_t)) {
    while (i < n && pred(cp[i]))
        i++;
    return i;
}

// \s*[\r\n]+ | \s+(?!\S) | \s+ at a whitespace character i.
static size_t spaces(const uint32_t *cp, size_t n, size_t i, bool newline_alt) {
    const size_t j = run(cp, n, i, kiln_unicode_is_space);
    if (newline_alt) {  // up to and including the last \r or \n of the run
        for (size_t k = j; k > i; k--)
            if (is_nl(cp[k - 1]))
                return k;
    }
    if (j == n || j - 1 == i)  // \s+(?!\S) matches all at the end; one space before \S: \s+
        return j;
    return j - 1;  // leave the last space to prefix what follows
}

static size_t split_llama(const uint32_t *cp, size_t n, size_t i, size_t max_digits) {
    const size_t c = contraction(cp, n, i, true);
    if (c)
        return i + c;
    const uint32_t x = cp[i];
    if (kiln_unicode_is_letter(x))  // [^\r\n\p{L}\p{N}]?\p{L}+ without the prefix
        return run(cp, n, i, kiln_unicode_is_letter);
    if (!is_nl(x) && !kiln_unicode_is_number(x) && i + 1 < n && kiln_unicode_is_letter(cp[i + 1]))
        return run(cp, n, i + 1, kiln_unicode_is_letter);  // ... with its one-character prefix
    if (kiln_unicode_is_number(x)) {  // \p{N}{1,max}
        size_t j = i;
        while (j < n && j - i < max_digits && kiln_unicode_is_number(cp[j]))
            j++;
        return j;
    }
    // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
    const size_t o = x == ' ' && i + 1 < n && is_other(cp[i + 1]) ? i + 1 : i;
    if (is_other(cp[o])) {
        const size_t j = run(cp, n, o, is_other);
        return run(cp, n, j, is_nl);
    }
    return spaces(cp, n, i, true);
}

static size_t split_gpt2(const uint32_t *cp, size_t n, size_t i) {
    const size_t c = contraction(cp, n, i, false);
    if (c)
        return i + c;
    const size_t o = cp[i] == ' ' && i + 1 < n ? i + 1 : i;  // the optional leading space
    if (kiln_unicode_is_letter(cp[o]))
        return run(cp, n, o, kiln_unicode_is_letter);
    if (kiln_unicode_is_number(cp[o]))
        return run(cp, n, o, kiln_unicode_is_number);
    if (is_other(cp[o]))
        return run(cp, n, o, is_other);
    return spaces(cp, n, i, false);
}

size_t kiln_bpe_split(enum kiln_bpe_pre pre, const uint32_t *cp, size_t n, size_t i) {
    switch (pre) {
    case KILN_BPE_PRE_LLAMA3: return split_llama(cp, n, i, 3);
    case KILN_BPE_PRE_QWEN2: return split_llama(cp, n, i, 1);
    default: return split_gpt2(cp, n, i);
    }
}
