/* test_svg.c - learning curves and piano rolls: well-formed XML, the right number of notes and
 * bar lines, escaping, wrapping, and errors for bad logs and melodies. */
#include "testutil.h"

#include <sys/stat.h>

#include "event.h"
#include "svg.h"

/*=== helpers ================================================================================*/

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    size_t r = fread(s, 1, (size_t)n, f);
    fclose(f);
    s[r] = '\0';
    return s;
}

static size_t count(const char *s, const char *needle)
{
    size_t k = 0;
    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle)) k++;
    return k;
}

/* A small XML well-formedness check: tags balance and nest, attribute values are quoted, '&'
 * starts a known entity, no raw '<' in text. Returns 1 when well formed. */
static int well_formed(const char *s)
{
    char stack[64][32];
    int depth = 0, roots = 0;
    const char *p = s;
    if (strncmp(p, "<?xml", 5) == 0) {
        p = strstr(p, "?>");
        if (!p) return 0;
        p += 2;
    }
    while (*p) {
        if (*p == '&') {
            if (strncmp(p, "&amp;", 5) && strncmp(p, "&lt;", 4) && strncmp(p, "&gt;", 4) &&
                strncmp(p, "&quot;", 6) && strncmp(p, "&apos;", 6))
                return 0;
            p++;
            continue;
        }
        if (*p == '>') return 0;
        if (*p != '<') {
            if ((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t' && *p != '\r') return 0;
            p++;
            continue;
        }
        p++;
        int closing = *p == '/';
        if (closing) p++;
        char name[32];
        int n = 0;
        while (*p && *p != '>' && *p != '/' && *p != ' ' && *p != '\n' && n < 31) name[n++] = *p++;
        name[n] = '\0';
        if (n == 0) return 0;
        /* attributes: skip quoted values, stop at '>' */
        int self = 0;
        while (*p && *p != '>') {
            if (*p == '"') {
                p++;
                while (*p && *p != '"') {
                    if (*p == '<') return 0;
                    p++;
                }
                if (!*p) return 0;
            } else if (*p == '/' && p[1] == '>') {
                self = 1;
            } else if (*p == '<') {
                return 0;
            }
            p++;
        }
        if (!*p) return 0;
        p++;
        if (closing) {
            if (depth == 0 || strcmp(stack[depth - 1], name) != 0) return 0;
            depth--;
        } else if (!self) {
            if (depth == 0) roots++;
            if (depth == 64) return 0;
            strcpy(stack[depth++], name);
        } else if (depth == 0) {
            return 0;
        }
    }
    return depth == 0 && roots == 1;
}

static void test_checker_catches_errors(void **state)
{
    (void)state;
    assert_true(well_formed("<svg><g><rect a=\"1\"/></g></svg>"));
    assert_false(well_formed("<svg><g></svg>"));
    assert_false(well_formed("<svg><g></svg></g>"));
    assert_false(well_formed("<svg>a & b</svg>"));
    assert_false(well_formed("<svg><text>a < b</text></svg>"));
}

static void add(mn_melody *m, int pitch, int dur, int pos, int bar)
{
    mn_event e = {pitch, pitch == MN_REST ? 0 : 90, dur, pos, bar};
    assert_int_equal(mn_melody_push(m, &e, NULL), MN_OK);
}

/* Appends n events of dur ticks in bars of bar ticks, continuing the clock of m. */
static void add_run(mn_melody *m, int n, int dur, int bar, int pitch0)
{
    int pos = 0;
    if (m->n) pos = mn_event_next_pos(&m->ev[m->n - 1]);
    for (int i = 0; i < n; i++) {
        add(m, pitch0 + (i * 5) % 17, dur, pos, bar);
        pos = (pos + dur) % bar;
    }
}

static char *render(const mn_melody *m, const char *title, mn_status want)
{
    char path[64], err[MN_ERR_LEN] = "";
    mn_test_tmpfile(path, sizeof path, ".svg");
    mn_status st = mn_svg_piano_roll(m, title, path, err);
    if (st != want) fail_msg("piano roll: got %s (%s), want %s", mn_status_name(st), err,
                             mn_status_name(want));
    char *s = st == MN_OK ? slurp(path) : NULL;
    unlink(path);
    if (st == MN_OK) {
        assert_non_null(s);
        assert_true(well_formed(s));
    } else {
        assert_true(strlen(err) > 0);
    }
    return s;
}

/*=== piano roll =============================================================================*/

static void test_roll_four_notes(void **state)
{
    (void)state;
    mn_melody m;
    mn_melody_init(&m);
    add_run(&m, 4, MN_TPQ, 4 * MN_TPQ, 60);
    char *s = render(&m, "four", MN_OK);
    assert_int_equal(count(s, "class=\"note\""), 4);
    assert_int_equal(count(s, "class=\"note-cont\""), 0);
    assert_int_equal(count(s, "class=\"bar\""), 2); /* the bar start and the closing line */
    assert_int_equal(count(s, "class=\"row\""), 1);
    assert_non_null(strstr(s, ">C4<"));
    free(s);
    mn_melody_free(&m);
}

static void test_roll_rests_and_pickup(void **state)
{
    (void)state;
    mn_melody m;
    mn_melody_init(&m);
    /* an eighth-note pickup in 2/4, then two bars with a rest */
    int bar = 2 * MN_TPQ;
    add(&m, 67, 12, 36, bar);
    add(&m, 72, 24, 0, bar);
    add(&m, MN_REST, 24, 24, bar);
    add(&m, 74, 48, 0, bar);
    char *s = render(&m, NULL, MN_OK);
    assert_int_equal(count(s, "class=\"note\""), 3);
    /* bars start at 0, 48, 96; closing line at 144 */
    assert_int_equal(count(s, "class=\"bar\""), 4);
    free(s);
    mn_melody_free(&m);
}

static void test_roll_held_note_spans_empty_bars(void **state)
{
    (void)state;
    mn_melody m;
    mn_melody_init(&m);
    int bar = 3 * MN_TPQ; /* 3/4 */
    add(&m, 60, 3 * bar, 0, bar); /* held over three bars */
    add(&m, 62, bar, 0, bar);
    char *s = render(&m, "held", MN_OK);
    assert_int_equal(count(s, "class=\"note\""), 2);
    assert_int_equal(count(s, "class=\"bar\""), 5);
    free(s);
    mn_melody_free(&m);
}

static void test_roll_long_melody_wraps(void **state)
{
    (void)state;
    mn_melody m;
    mn_melody_init(&m);
    add_run(&m, 2000, MN_TPQ / 2, 4 * MN_TPQ, 55);
    char *s = render(&m, "long", MN_OK);
    assert_int_equal(count(s, "class=\"note\""), 2000);
    assert_int_equal(count(s, "class=\"note-cont\""), 0);
    assert_int_equal(count(s, "class=\"bar\""), 250 + 1);
    assert_true(count(s, "class=\"row\"") > 10);
    free(s);
    mn_melody_free(&m);
}

static void test_roll_note_across_row_break(void **state)
{
    (void)state;
    mn_melody m;
    mn_melody_init(&m);
    int bar = 4 * MN_TPQ;
    /* many whole notes, then a note held over two bars, then more: some row break must fall
     * inside one of the long notes */
    for (int i = 0; i < 40; i++) add(&m, 60 + i % 12, i % 2 ? bar : 2 * bar, 0, bar);
    char *s = render(&m, "ties", MN_OK);
    assert_int_equal(count(s, "class=\"note\""), 40);
    assert_int_equal(count(s, "class=\"bar\""), 60 + 1);
    assert_true(count(s, "class=\"row\"") >= 2);
    assert_true(count(s, "class=\"note-cont\"") >= 1);
    free(s);
    mn_melody_free(&m);
}

static void test_roll_escapes_title(void **state)
{
    (void)state;
    mn_melody m;
    mn_melody_init(&m);
    add_run(&m, 4, MN_TPQ, 4 * MN_TPQ, 60);
    char *s = render(&m, "<b> & \"q\" 'x' \x01 \xff", MN_OK);
    assert_non_null(strstr(s, "&lt;b&gt; &amp; &quot;q&quot; &apos;x&apos; ? ?"));
    free(s);
    /* the tune name is used when no title is given */
    snprintf(m.name, sizeof m.name, "reel<1>");
    s = render(&m, NULL, MN_OK);
    assert_non_null(strstr(s, "reel&lt;1&gt;"));
    free(s);
    mn_melody_free(&m);
}

static void test_roll_only_rests(void **state)
{
    (void)state;
    mn_melody m;
    mn_melody_init(&m);
    add(&m, MN_REST, 96, 0, 96);
    char *s = render(&m, "silence", MN_OK);
    assert_int_equal(count(s, "class=\"note\""), 0);
    free(s);
    mn_melody_free(&m);
}

static void test_roll_errors(void **state)
{
    (void)state;
    mn_melody m;
    mn_melody_init(&m);
    render(&m, "empty", MN_ERR_EMPTY);
    add(&m, 200, 24, 0, 96);
    render(&m, "bad pitch", MN_ERR_ARG);
    m.n = 0;
    add(&m, 60, 0, 0, 96);
    render(&m, "bad duration", MN_ERR_ARG);
    m.n = 0;
    add(&m, 60, 24, 96, 96);
    render(&m, "bad position", MN_ERR_ARG);
    m.n = 0;
    add(&m, 60, 24, 0, 96);
    char err[MN_ERR_LEN] = "";
    assert_int_equal(mn_svg_piano_roll(&m, "x", "/nonexistent-dir/roll.svg", err), MN_ERR_IO);
    assert_non_null(strstr(err, "/nonexistent-dir/roll.svg"));
    mn_melody_free(&m);
}

/*=== learning curve =========================================================================*/

static char *curve(const char *csv, mn_status want, char *err)
{
    char in[64], out[64];
    mn_test_tmpfile(in, sizeof in, ".csv");
    mn_test_tmpfile(out, sizeof out, ".svg");
    unlink(out);
    assert_int_equal(mn_test_write(in, csv, strlen(csv)), 0);
    err[0] = '\0';
    mn_status st = mn_svg_learning_curve(in, out, err);
    if (st != want) fail_msg("learning curve: got %s (%s), want %s", mn_status_name(st), err,
                             mn_status_name(want));
    char *s = slurp(out);
    if (st != MN_OK) {
        assert_null(s); /* a failure leaves no file */
        assert_true(strlen(err) > 0);
    } else {
        assert_non_null(s);
        assert_true(well_formed(s));
    }
    unlink(in);
    unlink(out);
    return s;
}

static void test_curve_per_epoch(void **state)
{
    (void)state;
    char err[MN_ERR_LEN];
    char *s = curve("epoch,step,train_loss,valid_bits_pitch,valid_bits_duration,"
                    "valid_bits_total,lr,tokens_per_s,elapsed_s\n"
                    "1,1000,2.10,2.9,0.9,3.8,0.001,50000,10\n"
                    "2,2000,1.90,2.7,0.8,3.5,0.001,50000,20\n"
                    "3,3000,1.80,2.6,0.8,3.4,0.0005,50000,30\n",
                    MN_OK, err);
    assert_int_equal(count(s, "class=\"series\""), 4);
    assert_int_equal(count(s, "class=\"legend\""), 4);
    assert_non_null(strstr(s, ">epoch<"));
    assert_non_null(strstr(s, "nats / ln 2"));
    assert_int_equal(count(s, "class=\"epoch\""), 0);
    free(s);
}

static void test_curve_per_step_extra_and_empty(void **state)
{
    (void)state;
    char err[MN_ERR_LEN];
    /* columns reordered, an extra text column, validation only at epoch ends, CRLF */
    char *s = curve("note,step,epoch,train_loss,valid_bits_total\r\n"
                    "start,100,0,3.0,\r\n"
                    "x,200,0,2.5,\r\n"
                    "y,300,0,2.2,3.9\r\n"
                    "\r\n"
                    "z,400,1,2.0,\r\n"
                    "w,500,1,1.9,3.6\r\n",
                    MN_OK, err);
    assert_int_equal(count(s, "class=\"series\""), 2);
    assert_non_null(strstr(s, ">step<"));
    assert_int_equal(count(s, "class=\"epoch\""), 1);
    free(s);
}

static void test_curve_single_point(void **state)
{
    (void)state;
    char err[MN_ERR_LEN];
    char *s = curve("epoch,valid_bits_total\n1,3.25\n", MN_OK, err);
    assert_int_equal(count(s, "<circle"), 1);
    free(s);
}

static void test_curve_errors(void **state)
{
    (void)state;
    char err[MN_ERR_LEN];
    curve("", MN_ERR_FORMAT, err);
    curve("a,b,c\n1,2,3\n", MN_ERR_FORMAT, err);
    curve("epoch,train_loss\n1,2.0\n2,oops\n", MN_ERR_FORMAT, err);
    assert_non_null(strstr(err, "line 3"));
    assert_non_null(strstr(err, "train_loss"));
    curve("epoch,train_loss\n", MN_ERR_FORMAT, err);
    curve("epoch,train_loss\n1,\n2,nan\n", MN_ERR_FORMAT, err);
    assert_int_equal(mn_svg_learning_curve("/nonexistent/log.csv", "/tmp/x.svg", err), MN_ERR_IO);
    assert_non_null(strstr(err, "/nonexistent/log.csv"));
}

/* Logs a diverged or odd run can write: steps near 1e15 a fraction apart (ticks must not be
 * summed: t + step rounds back to t there), a step range wider than any double, and huge
 * losses. Each draws with a bounded number of ticks and no nan or inf in the picture. */
static void test_curve_extreme_values(void **state)
{
    (void)state;
    char err[MN_ERR_LEN];
    static const char *const logs[] = {
        "step,train_loss\n999999999999999.9,1\n1000000000000000,2\n",
        "step,train_loss\n1,1\n1e307,2\n-1.7e308,3\n",
        "train_loss\n1e300\n-1e300\n2\n4.9e-324\n",
        "epoch,valid_bits_total\n1e14,1\n1e15,2\n",
        /* one denormal value: a flat series no scale can spread (found by fuzz_csv) */
        "\"train_loss\", \"vab\r\n4.9e-323\n",
        "train_loss\n1e-320\n2e-320\n",
        "train_loss\n1\n1.0000000000000002\n",
    };
    for (size_t i = 0; i < sizeof logs / sizeof *logs; i++) {
        char *s = curve(logs[i], MN_OK, err);
        if (strstr(s, "nan") || strstr(s, "inf")) fail_msg("log %zu: nan or inf in the SVG", i);
        if (count(s, "<text") > 100) fail_msg("log %zu: %zu labels", i, count(s, "<text"));
        free(s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checker_catches_errors),
        cmocka_unit_test(test_roll_four_notes),
        cmocka_unit_test(test_roll_rests_and_pickup),
        cmocka_unit_test(test_roll_held_note_spans_empty_bars),
        cmocka_unit_test(test_roll_long_melody_wraps),
        cmocka_unit_test(test_roll_note_across_row_break),
        cmocka_unit_test(test_roll_escapes_title),
        cmocka_unit_test(test_roll_only_rests),
        cmocka_unit_test(test_roll_errors),
        cmocka_unit_test(test_curve_per_epoch),
        cmocka_unit_test(test_curve_per_step_extra_and_empty),
        cmocka_unit_test(test_curve_single_point),
        cmocka_unit_test(test_curve_errors),
        cmocka_unit_test(test_curve_extreme_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
