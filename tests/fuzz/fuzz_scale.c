/* fuzz_scale.c - libFuzzer harness for scale names and pitch-class sets (mn_scale_mask) and
 * for the sampler's choice under them. Input: 8 bytes of settings (root, flags, a raw
 * pitch-class mask, pitch range, temperature, top-k, top-p), then a scale name up to a NUL,
 * then raw float logits (whatever bytes follow, NaN and infinities included).
 * Checks: a known name gives a non-empty mask of 12 bits, the scale at root 0 rotated by the
 * root, the same for every spelling of it (case, '-', '_', ' '); an unknown name or root fails
 * with a message; settings that validate make mn_sampler_pitch return a class the settings
 * allow (the scale is given up only when no pitch of the range is in it) and
 * mn_sampler_duration a token in range. */
#include "sampler.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_check.h"

static uint16_t rotate(uint16_t m, int root)
{
    return (uint16_t)(((m << root) | (m >> (12 - root))) & 0xFFF);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8) return 0;
    int root = (int8_t)data[0];
    uint8_t flags = data[1];
    uint16_t raw_mask = (uint16_t)(data[2] | data[3] << 8);
    const uint8_t *name_at = data + 8;
    size_t rest = size - 8;
    const uint8_t *nul = memchr(name_at, '\0', rest);
    size_t name_len = nul ? (size_t)(nul - name_at) : rest;
    char *name = mn_malloc(name_len + 1);
    if (!name) return 0;
    memcpy(name, name_at, name_len);
    name[name_len] = '\0';

    /* the name */
    uint16_t mask = 0xA5A5;
    char err[MN_ERR_LEN] = "";
    mn_status st = mn_scale_mask(name, root, &mask, err);
    if (root < 0 || root > 11) {
        FUZZ_CHECK(st == MN_ERR_ARG && err[0], "root %d accepted", root);
    } else if (st != MN_OK) {
        FUZZ_CHECK(st == MN_ERR_ARG && err[0], "failure %s without a message",
                   mn_status_name(st));
        FUZZ_CHECK(mask == 0xA5A5, "a failure wrote the mask");
    } else {
        FUZZ_CHECK(mask != 0 && !(mask & ~0xFFF), "scale %s: mask 0x%x", name, mask);
        uint16_t at_c;
        FUZZ_CHECK(mn_scale_mask(name, 0, &at_c, err) == MN_OK, "%s at C: %s", name, err);
        FUZZ_CHECK(rotate(at_c, root) == mask, "%s on %d: 0x%x, at C 0x%x", name, root, mask,
                   at_c);
        FUZZ_CHECK(at_c & 1, "%s at C leaves out C", name);
        /* another spelling of the same name */
        char *alt = mn_malloc(2 * name_len + 2);
        FUZZ_CHECK(alt != NULL, "out of memory");
        size_t j = 0;
        for (size_t i = 0; i < name_len; i++) {
            unsigned char c = (unsigned char)name[i];
            alt[j++] = (char)(i & 1 ? toupper(c) : tolower(c));
            if (i == 0) alt[j++] = '_';
        }
        alt[j] = '\0';
        uint16_t m2 = 0;
        FUZZ_CHECK(mn_scale_mask(alt, root, &m2, err) == MN_OK && m2 == mask,
                   "'%s' gives 0x%x, '%s' 0x%x", name, mask, alt, m2);
        mn_free(alt);
        FUZZ_CHECK(mn_scale_mask(name, root, NULL, err) == MN_OK, "no mask pointer");
    }

    /* the sampler under a named scale (when it parsed) or the raw pitch-class set */
    static const float temps[] = {1.0f, 0.01f, 5.0f, 1e-30f};
    static const float tops[] = {1.0f, 0.9f, 1e-6f, 0.5f};
    mn_sampler sm;
    mn_sampler_default(&sm);
    sm.scale_on = flags & 1;
    sm.scale_mask = st == MN_OK ? mask : raw_mask;
    sm.allow_rest = (flags >> 1) & 1;
    sm.pitch_lo = data[4] & 127;
    sm.pitch_hi = data[5] & 127;
    sm.temperature = temps[(flags >> 2) & 3];
    sm.top_k = data[6] & 15;
    sm.top_p = tops[(flags >> 4) & 3];
    if (mn_sampler_validate(&sm, err) == MN_OK) {
        float logits[MN_N_PITCH];
        const uint8_t *lp = nul ? nul + 1 : data + size;
        size_t ln = (size_t)(data + size - lp) / 4;
        for (int k = 0; k < MN_N_PITCH; k++) {
            if ((size_t)k < ln) memcpy(&logits[k], lp + 4 * k, 4);
            else logits[k] = (float)((k * 37 + data[7]) % 29) - 14.0f;
        }
        float scratch[2 * MN_N_PITCH];
        mn_rng r;
        mn_rng_seed(&r, fuzz_hash(data, size));
        int in_scale = 0;
        for (int k = sm.pitch_lo; k <= sm.pitch_hi; k++)
            in_scale |= !sm.scale_on || (sm.scale_mask >> (k % 12)) & 1;
        for (int t = 0; t < 4; t++) {
            int p = mn_sampler_pitch(&sm, &r, logits, scratch);
            FUZZ_CHECK(p >= 0 && p < MN_N_PITCH, "pitch class %d", p);
            if (p == MN_REST) {
                FUZZ_CHECK(sm.allow_rest, "a rest while rests are off");
            } else {
                FUZZ_CHECK(p >= sm.pitch_lo && p <= sm.pitch_hi, "pitch %d outside %d..%d", p,
                           sm.pitch_lo, sm.pitch_hi);
                FUZZ_CHECK(!in_scale || mn_sampler_allows(&sm, p),
                           "pitch %d outside the scale 0x%x", p, sm.scale_mask);
            }
            int n = 1 + data[7] % MN_MAX_DUR;
            int d = mn_sampler_duration(&sm, &r, logits, n, scratch);
            FUZZ_CHECK(d >= 0 && d < n, "duration token %d of %d", d, n);
        }
    }
    mn_free(name);
    return 0;
}
