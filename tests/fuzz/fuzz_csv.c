/* fuzz_csv.c - libFuzzer harness for the learning-curve reader (mn_svg_learning_curve): the
 * input is written as the trainer's CSV log and drawn. Checks: a drawn curve is a whole SVG
 * document of bounded size with no NaN or infinity among its numbers; a refused log says why
 * and writes no picture. */
#include "svg.h"

#include <stdint.h>
#include <string.h>

#include "fuzz_check.h"
#include "fuzz_tmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char csv[PATH_MAX], svg[PATH_MAX];
    fuzz_tmp_write(csv, "log.csv", data, size);
    fuzz_tmp_path(svg, "curve.svg");
    unlink(svg);
    char err[MN_ERR_LEN] = "";
    mn_status st = mn_svg_learning_curve(csv, svg, err);
    FILE *f = fopen(svg, "rb");
    if (st != MN_OK) {
        FUZZ_CHECK(err[0] != '\0', "failure %s without a message", mn_status_name(st));
        FUZZ_CHECK(st == MN_ERR_FORMAT || st == MN_ERR_LIMIT || st == MN_ERR_NOMEM,
                   "status %s: %s", mn_status_name(st), err);
        FUZZ_CHECK(f == NULL, "a refused log left a picture (%s)", err);
        return 0;
    }
    FUZZ_CHECK(f != NULL, "ok without a picture");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    /* a fixed frame, a bounded number of ticks, a point and a marker per row */
    FUZZ_CHECK(n > 0 && (size_t)n <= 64 * 1024 + 256 * size, "%ld bytes of SVG from %zu", n, size);
    char *text = mn_malloc((size_t)n + 1);
    FUZZ_CHECK(text && fread(text, 1, (size_t)n, f) == (size_t)n, "cannot read the SVG");
    fclose(f);
    text[n] = '\0';
    FUZZ_CHECK(!strncmp(text, "<?xml", 5), "not an XML document");
    FUZZ_CHECK(n >= 7 && !strcmp(text + n - 7, "</svg>\n"), "the SVG is not closed");
    const char *bad = strstr(text, "nan");
    if (!bad) bad = strstr(text, "inf");
    FUZZ_CHECK(bad == NULL, "NaN or infinity in the SVG: ...%.60s",
               bad - text > 30 ? bad - 30 : text);
    mn_free(text);
    unlink(svg);
    return 0;
}
