#ifndef TAPLINE_JSON_BYTES_H
#define TAPLINE_JSON_BYTES_H
// The capture encoder's check-and-copy of JSON string text, sixteen bytes at a time
// with SSE2 (every x86_64 CPU has it; other targets take a byte loop). Swift's own
// SIMD types compile comparisons to a loop over the lanes, so the check is here, as
// static inline functions that Swift inlines into its callers (JSONLineBuilder).
// Stateless; no I/O.
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#if defined(__SSE2__)
/// A bit per byte of `v` that needs a JSON escape (below 0x20, `"` or `\`), or with
/// `reject_non_ascii` also one of 0x80 or more: zero exactly when there is none.
static inline __attribute__((always_inline)) int tapline_json_flagged16(__m128i v, bool reject_non_ascii) {
    __m128i marked = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(0x22)), _mm_cmpeq_epi8(v, _mm_set1_epi8(0x5C)));
    __m128i low = reject_non_ascii
        ? _mm_cmplt_epi8(v, _mm_set1_epi8(0x20))                    // signed: 0x00-0x1F and 0x80-0xFF
        : _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1F)), v);  // unsigned: 0x00-0x1F
    return _mm_movemask_epi8(_mm_or_si128(marked, low));
}
#endif

/// Copies the `count` bytes at `source` to `target` (which do not overlap) and
/// returns true when none of them needs a JSON escape (a byte below 0x20, `"` or
/// `\`; with `reject_non_ascii` also one of 0x80 or more); returns false as soon as
/// one does, leaving a partial copy for the caller to overwrite. Nothing is read or
/// written outside the two ranges: short text is checked as overlapping pieces
/// (the same byte checked twice is still the same answer), a long one in blocks of
/// sixteen with the last block loaded again from `count - 16`.
static inline __attribute__((always_inline)) bool tapline_json_copy_if_plain(const uint8_t *source, size_t count,
                                                                             uint8_t *target, bool reject_non_ascii) {
#if defined(__SSE2__)
    if (count >= 16) {
        size_t index = 0;
        for (; index + 16 <= count; index += 16) {
            __m128i block = _mm_loadu_si128((const __m128i *)(source + index));
            if (tapline_json_flagged16(block, reject_non_ascii)) return false;
            _mm_storeu_si128((__m128i *)(target + index), block);
        }
        if (index < count) {
            __m128i block = _mm_loadu_si128((const __m128i *)(source + count - 16));
            if (tapline_json_flagged16(block, reject_non_ascii)) return false;
            _mm_storeu_si128((__m128i *)(target + count - 16), block);
        }
        return true;
    }
    if (count >= 8) {
        uint64_t head, tail;
        memcpy(&head, source, 8);
        memcpy(&tail, source + count - 8, 8);
        if (tapline_json_flagged16(_mm_set_epi64x((long long)tail, (long long)head), reject_non_ascii)) return false;
        memcpy(target, &head, 8);
        memcpy(target + count - 8, &tail, 8);
        return true;
    }
    if (count >= 4) {
        uint32_t head, tail;
        memcpy(&head, source, 4);
        memcpy(&tail, source + count - 4, 4);
        if (tapline_json_flagged16(_mm_set_epi32((int)head, (int)tail, (int)head, (int)tail), reject_non_ascii)) {
            return false;
        }
        memcpy(target, &head, 4);
        memcpy(target + count - 4, &tail, 4);
        return true;
    }
    if (count == 0) return true;
    uint8_t first = source[0], middle = source[count >> 1], last = source[count - 1];
    uint32_t word = (uint32_t)first | (uint32_t)middle << 8 | (uint32_t)last << 16 | (uint32_t)first << 24;
    if (tapline_json_flagged16(_mm_set1_epi32((int)word), reject_non_ascii)) return false;
    target[0] = first;
    target[count >> 1] = middle;
    target[count - 1] = last;
    return true;
#else
    for (size_t index = 0; index < count; index++) {
        uint8_t byte = source[index];
        if (byte < 0x20 || byte == 0x22 || byte == 0x5C || (reject_non_ascii && byte >= 0x80)) return false;
        target[index] = byte;
    }
    return true;
#endif
}

#endif
