/* svg.c - learning curves and piano rolls as hand-written SVG. Text is built in memory, then
 * written to a temporary file beside the target and renamed into place. */
#include "svg.h"
#include "sbuf.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if the bytes there are not one. */
static int utf8_len(const unsigned char *s)
{
    if (s[0] < 0x80) return 1;
    int len;
    unsigned min;
    unsigned cp;
    if ((s[0] & 0xE0) == 0xC0) { len = 2; cp = s[0] & 0x1F; min = 0x80; }
    else if ((s[0] & 0xF0) == 0xE0) { len = 3; cp = s[0] & 0x0F; min = 0x800; }
    else if ((s[0] & 0xF8) == 0xF0) { len = 4; cp = s[0] & 0x07; min = 0x10000; }
    else return 0;
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

/* Appends s as XML character data. Tune names come from MIDI track names in any encoding, so
 * bytes that are not UTF-8 and control characters (not allowed in XML 1.0) become '?'. */
static void sb_esc(mn_sbuf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        switch (*p) {
        case '&': mn_sbuf_printf(b, "&amp;"); p++; continue;
        case '<': mn_sbuf_printf(b, "&lt;"); p++; continue;
        case '>': mn_sbuf_printf(b, "&gt;"); p++; continue;
        case '"': mn_sbuf_printf(b, "&quot;"); p++; continue;
        case '\'': mn_sbuf_printf(b, "&apos;"); p++; continue;
        default: break;
        }
        if (*p < 0x20 || *p == 0x7F) {
            mn_sbuf_putc(b, *p == '\t' ? ' ' : '?');
            p++;
            continue;
        }
        int len = utf8_len(p);
        if (len == 0) {
            mn_sbuf_putc(b, '?');
            p++;
            continue;
        }
        for (int i = 0; i < len; i++) mn_sbuf_putc(b, (char)p[i]);
        p += len;
    }
}

/*=== files ==================================================================================*/

static mn_status write_atomic(const char *path, const mn_sbuf *b, char *err)
{
    if (b->failed) return mn_errf(err, MN_ERR_NOMEM, "%s: out of memory building the SVG", path);
    char *tmp;
    FILE *f = mn_atomic_open(path, &tmp, err);
    if (!f) return MN_ERR_IO;
    return mn_atomic_close(f, tmp, path, !b->n || fwrite(b->buf, 1, b->n, f) == b->n, err);
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/*=== axes ===================================================================================*/

/* values closer together than this (or smaller than it) are one value on an axis */
#define MN_SVG_TINY 1e-30

/* A step of 1, 2 or 5 times a power of ten giving about `target` intervals over range. */
static double nice_step(double range, int target)
{
    if (!(range > 0)) return 1;
    double raw = range / target;
    double p = pow(10, floor(log10(raw)));
    double f = raw / p;
    double s = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
    return s * p;
}

typedef struct {
    double lo, hi, step;
    int decimals; /* for tick labels */
} axis;

static axis make_axis(double lo, double hi, int target, double min_step)
{
    axis a;
    /* A flat series, or one whose spread is lost in the rounding of its values or is too small
     * to scale (denormals), is drawn as flat: padded by a tenth of its size, or by 0.5 about 0. */
    double mag = fmax(fabs(lo), fabs(hi));
    if (!(hi - lo > mag * 1e-12) || !(hi - lo > MN_SVG_TINY)) {
        double pad = mag > MN_SVG_TINY ? mag * 0.1 : 0.5;
        double mid = mag > MN_SVG_TINY ? lo : 0;
        lo = mid - pad;
        hi = mid + pad;
    }
    a.step = nice_step(hi - lo, target);
    if (a.step < min_step) a.step = min_step;
    a.lo = floor(lo / a.step + 1e-9) * a.step;
    a.hi = ceil(hi / a.step - 1e-9) * a.step;
    if (a.hi <= a.lo) a.hi = a.lo + a.step;
    double d = -floor(log10(a.step) + 1e-9);
    a.decimals = d > 0 ? (int)fmin(d, 40) : 0;
    return a;
}

/* Ticks of an axis: lo + i * step for i in 0..axis_ticks()-1. Counted rather than summed: near
 * 1e15 a small step added to t would round back to t. */
static int axis_ticks(const axis *a)
{
    double n = floor((a->hi - a->lo) / a->step + 1e-6) + 1;
    return n >= 1 && n <= 1000 ? (int)n : 1;
}

/*=== learning curve =========================================================================*/

enum { COL_EPOCH, COL_STEP, COL_TRAIN, COL_VPITCH, COL_VDUR, COL_VTOTAL, N_COLS };
static const char *const col_names[N_COLS] = {
    "epoch", "step", "train_loss", "valid_bits_pitch", "valid_bits_duration", "valid_bits_total",
};

/* Splits line (modified in place) at commas into at most max fields, trimming blanks and one
 * pair of surrounding double quotes. Returns the number of fields. */
static int split_csv(char *line, char **fields, int max)
{
    int n = 0;
    char *p = line;
    for (;;) {
        char *end = strchr(p, ',');
        if (end) *end = '\0';
        while (*p == ' ' || *p == '\t') p++;
        size_t len = strlen(p);
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t' || p[len - 1] == '\r')) p[--len] = 0;
        if (len >= 2 && p[0] == '"' && p[len - 1] == '"') {
            p[len - 1] = '\0';
            p++;
        }
        if (n < max) fields[n++] = p;
        if (!end) break;
        p = end + 1;
    }
    return n;
}

typedef struct {
    const char *label;
    const char *color;
    int col;
    double scale;
    const char *dash; /* stroke-dasharray, or NULL */
} series_def;

static const series_def series[] = {
    {"train (loss / ln 2)", "#1f77b4", COL_TRAIN, 1.0 / 0.69314718055994530942, NULL},
    {"valid total", "#d62728", COL_VTOTAL, 1.0, NULL},
    {"valid pitch", "#ff7f0e", COL_VPITCH, 1.0, "6 3"},
    {"valid duration", "#2ca02c", COL_VDUR, 1.0, "2 3"},
};
#define N_SERIES ((int)(sizeof series / sizeof series[0]))

#define MAX_FIELDS 256

mn_status mn_svg_learning_curve(const char *csv_path, const char *svg_path, char *err)
{
    if (!csv_path || !svg_path) return mn_errf(err, MN_ERR_ARG, "learning curve: no path given");
    uint8_t *bytes;
    size_t len;
    mn_status st =
        mn_read_file(csv_path, MN_SVG_MAX_CSV_BYTES, MN_READ_NONEMPTY, &bytes, &len, err);
    if (st) return st;
    char *text = (char *)bytes; /* NUL-terminated */
    if (memchr(text, '\0', len)) {
        mn_free(text);
        return mn_errf(err, MN_ERR_FORMAT, "%s: binary data, not a CSV log", csv_path);
    }

    /* rows hold N_COLS values each, NAN where absent */
    size_t n_lines = 1;
    for (size_t i = 0; i < len; i++) n_lines += text[i] == '\n';
    double *v = mn_malloc(n_lines * N_COLS * sizeof *v);
    char **fields = mn_malloc(MAX_FIELDS * sizeof *fields);
    if (!v || !fields) {
        mn_free(text);
        mn_free(v);
        mn_free(fields);
        return mn_errf(err, MN_ERR_NOMEM, "%s: out of memory", csv_path);
    }
    int idx[N_COLS];
    for (int c = 0; c < N_COLS; c++) idx[c] = -1;
    int have_header = 0;
    size_t n_rows = 0, line_no = 0;
    char *p = text;
    st = MN_OK;
    while (p && *p) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = '\0';
        line_no++;
        char *line = p;
        p = nl ? nl + 1 : NULL;
        size_t ll = strlen(line);
        while (ll && (line[ll - 1] == '\r' || line[ll - 1] == ' ')) line[--ll] = '\0';
        if (ll == 0) continue;
        int nf = split_csv(line, fields, MAX_FIELDS);
        if (!have_header) {
            for (int f = 0; f < nf; f++)
                for (int c = 0; c < N_COLS; c++)
                    if (idx[c] < 0 && strcmp(fields[f], col_names[c]) == 0) idx[c] = f;
            int any_y = idx[COL_TRAIN] >= 0 || idx[COL_VPITCH] >= 0 || idx[COL_VDUR] >= 0 ||
                        idx[COL_VTOTAL] >= 0;
            if (!any_y) {
                st = mn_errf(err, MN_ERR_FORMAT,
                             "%s: line %zu: header names none of train_loss, valid_bits_total, "
                             "valid_bits_pitch, valid_bits_duration", csv_path, line_no);
                break;
            }
            have_header = 1;
            continue;
        }
        double *row = v + n_rows * N_COLS;
        for (int c = 0; c < N_COLS; c++) {
            row[c] = NAN;
            if (idx[c] < 0 || idx[c] >= nf || fields[idx[c]][0] == '\0') continue;
            char *end;
            double x = strtod(fields[idx[c]], &end);
            if (*end != '\0') {
                st = mn_errf(err, MN_ERR_FORMAT, "%s: line %zu: %s value '%.40s' is not a number",
                             csv_path, line_no, col_names[c], fields[idx[c]]);
                break;
            }
            /* a diverged run logs nan, inf or huge values: leave the point out rather than
             * the picture (and keep every coordinate and tick finite and distinct) */
            if (isfinite(x) && fabs(x) <= MN_SVG_MAX_VALUE) row[c] = x;
        }
        if (st) break;
        n_rows++;
    }
    mn_free(fields);
    if (!st && !have_header) st = mn_errf(err, MN_ERR_FORMAT, "%s: empty log, no header", csv_path);
    if (st) {
        mn_free(text);
        mn_free(v);
        return st;
    }

    /* x: the epoch when each row has its own, else the step, else the row number */
    int x_col = -1;
    const char *x_label = "log row";
    int epoch_per_row = idx[COL_EPOCH] >= 0 && n_rows > 0;
    int epoch_integer = 1;
    for (size_t r = 0; r < n_rows && epoch_per_row; r++) {
        double e = v[r * N_COLS + COL_EPOCH];
        if (!isfinite(e) || (r > 0 && !(e > v[(r - 1) * N_COLS + COL_EPOCH]))) epoch_per_row = 0;
        if (e != floor(e)) epoch_integer = 0;
    }
    int have_step = 0;
    for (size_t r = 0; r < n_rows; r++) have_step |= isfinite(v[r * N_COLS + COL_STEP]);
    if (epoch_per_row) {
        x_col = COL_EPOCH;
        x_label = "epoch";
    } else if (have_step) {
        x_col = COL_STEP;
        x_label = "step";
    }
    double *xs = mn_malloc((n_rows ? n_rows : 1) * sizeof *xs);
    if (!xs) {
        mn_free(text);
        mn_free(v);
        return mn_errf(err, MN_ERR_NOMEM, "%s: out of memory", csv_path);
    }
    for (size_t r = 0; r < n_rows; r++) xs[r] = x_col >= 0 ? v[r * N_COLS + x_col] : (double)(r + 1);

    double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
    int n_points[N_SERIES] = {0};
    for (int s = 0; s < N_SERIES; s++) {
        if (idx[series[s].col] < 0) continue;
        for (size_t r = 0; r < n_rows; r++) {
            double y = v[r * N_COLS + series[s].col] * series[s].scale;
            if (!isfinite(y) || !isfinite(xs[r])) continue;
            n_points[s]++;
            xmin = fmin(xmin, xs[r]);
            xmax = fmax(xmax, xs[r]);
            ymin = fmin(ymin, y);
            ymax = fmax(ymax, y);
        }
    }
    if (!isfinite(xmin)) {
        mn_free(text);
        mn_free(v);
        mn_free(xs);
        return mn_errf(err, MN_ERR_FORMAT, "%s: no row holds a loss or bits value to draw",
                       csv_path);
    }

    const double W = 860, H = 500, ml = 78, mr = 200, mt = 56, mb = 64;
    const double pw = W - ml - mr, ph = H - mt - mb;
    axis ax = make_axis(xmin, xmax, 8, x_col == COL_EPOCH && epoch_integer ? 1 : 0);
    axis ay = make_axis(ymin, ymax, 6, 0);
#define PX(x) (ml + ((x) - ax.lo) / (ax.hi - ax.lo) * pw)
#define PY(y) (mt + ph - ((y) - ay.lo) / (ay.hi - ay.lo) * ph)

    mn_sbuf b = {0};
    mn_sbuf_printf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    mn_sbuf_printf(&b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                  "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n",
              W, H, W, H);
    mn_sbuf_printf(&b, "<title>learning curve: ");
    sb_esc(&b, base_name(csv_path));
    mn_sbuf_printf(&b, "</title>\n<rect width=\"%.0f\" height=\"%.0f\" fill=\"white\"/>\n", W, H);
    mn_sbuf_printf(&b, "<text x=\"%.1f\" y=\"28\" font-size=\"16\" text-anchor=\"middle\">"
                  "learning curve: ", ml + pw / 2);
    sb_esc(&b, base_name(csv_path));
    mn_sbuf_printf(&b, "</text>\n");

    /* grid and ticks */
    mn_sbuf_printf(&b, "<g stroke=\"#e0e0e0\" stroke-width=\"1\">\n");
    int nx = axis_ticks(&ax), ny = axis_ticks(&ay);
    for (int i = 0; i < nx; i++) {
        double t = ax.lo + i * ax.step;
        mn_sbuf_printf(&b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", PX(t), mt,
                  PX(t), mt + ph);
    }
    for (int i = 0; i < ny; i++) {
        double t = ay.lo + i * ay.step;
        mn_sbuf_printf(&b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", ml, PY(t),
                  ml + pw, PY(t));
    }
    mn_sbuf_printf(&b, "</g>\n<g fill=\"#333\">\n");
    for (int i = 0; i < nx; i++) {
        double t = ax.lo + i * ax.step;
        mn_sbuf_printf(&b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.*f</text>\n", PX(t),
                  mt + ph + 18, ax.decimals, fabs(t) < ax.step * 1e-9 ? 0.0 : t);
    }
    for (int i = 0; i < ny; i++) {
        double t = ay.lo + i * ay.step;
        mn_sbuf_printf(&b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.*f</text>\n", ml - 6,
                  PY(t) + 4, ay.decimals, fabs(t) < ay.step * 1e-9 ? 0.0 : t);
    }
    mn_sbuf_printf(&b, "</g>\n");

    /* epoch starts when the x axis counts steps */
    if (x_col == COL_STEP && idx[COL_EPOCH] >= 0) {
        double last_e = NAN;
        mn_sbuf_printf(&b, "<g stroke=\"#999\" stroke-dasharray=\"4 4\" font-size=\"10\">\n");
        for (size_t r = 0; r < n_rows; r++) {
            double e = v[r * N_COLS + COL_EPOCH];
            if (!isfinite(e) || !isfinite(xs[r])) continue;
            if (isfinite(last_e) && floor(e) != floor(last_e)) {
                mn_sbuf_printf(&b, "<line class=\"epoch\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
                              "y2=\"%.1f\"/>\n", PX(xs[r]), mt, PX(xs[r]), mt + ph);
                mn_sbuf_printf(&b, "<text x=\"%.1f\" y=\"%.1f\" stroke=\"none\" fill=\"#777\">"
                              "epoch %.0f</text>\n", PX(xs[r]) + 3, mt + 12, floor(e));
            }
            last_e = e;
        }
        mn_sbuf_printf(&b, "</g>\n");
    }

    /* frame and axis labels */
    mn_sbuf_printf(&b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
                  "stroke=\"#333\"/>\n", ml, mt, pw, ph);
    mn_sbuf_printf(&b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", ml + pw / 2,
              H - 18, x_label);
    mn_sbuf_printf(&b, "<text x=\"18\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 18 "
                  "%.1f)\">bits per event (train: loss in nats / ln 2)</text>\n", mt + ph / 2,
              mt + ph / 2);

    /* series and legend */
    int n_legend = 0;
    for (int s = 0; s < N_SERIES; s++) {
        if (n_points[s] == 0) continue;
        const series_def *d = &series[s];
        if (n_points[s] > 1) {
            mn_sbuf_printf(&b, "<polyline class=\"series\" fill=\"none\" stroke=\"%s\" "
                          "stroke-width=\"2\"%s%s%s points=\"", d->color,
                      d->dash ? " stroke-dasharray=\"" : "", d->dash ? d->dash : "",
                      d->dash ? "\"" : "");
            for (size_t r = 0; r < n_rows; r++) {
                double y = v[r * N_COLS + d->col] * d->scale;
                if (isfinite(y) && isfinite(xs[r]))
                    mn_sbuf_printf(&b, "%.1f,%.1f ", PX(xs[r]), PY(y));
            }
            mn_sbuf_printf(&b, "\"/>\n");
        }
        /* markers only while they stay readable */
        if (n_points[s] <= 120) {
            mn_sbuf_printf(&b, "<g fill=\"%s\">\n", d->color);
            for (size_t r = 0; r < n_rows; r++) {
                double y = v[r * N_COLS + d->col] * d->scale;
                if (isfinite(y) && isfinite(xs[r]))
                    mn_sbuf_printf(&b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\"/>\n", PX(xs[r]), PY(y));
            }
            mn_sbuf_printf(&b, "</g>\n");
        }
        double ly = mt + 14 + 22 * n_legend++;
        double lx = ml + pw + 16;
        mn_sbuf_printf(&b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                      "stroke-width=\"2\"%s%s%s/>\n", lx, ly, lx + 26, ly, d->color,
                  d->dash ? " stroke-dasharray=\"" : "", d->dash ? d->dash : "",
                  d->dash ? "\"" : "");
        mn_sbuf_printf(&b, "<text class=\"legend\" x=\"%.1f\" y=\"%.1f\">%s</text>\n", lx + 32,
                  ly + 4, d->label);
    }
    mn_sbuf_printf(&b, "</svg>\n");
#undef PX
#undef PY

    st = write_atomic(svg_path, &b, err);
    mn_free(b.buf);
    mn_free(text);
    mn_free(v);
    mn_free(xs);
    return st;
}

/*=== piano roll =============================================================================*/

static int is_black_key(int pitch)
{
    int pc = pitch % 12;
    return pc == 1 || pc == 3 || pc == 6 || pc == 8 || pc == 10;
}

mn_status mn_svg_piano_roll(const mn_melody *m, const char *title, const char *svg_path,
                            char *err)
{
    if (!m || !svg_path) return mn_errf(err, MN_ERR_ARG, "piano roll: no melody or path given");
    if (m->n == 0) return mn_errf(err, MN_ERR_EMPTY, "%s: melody has no events", svg_path);
    if (m->n > MN_SVG_MAX_EVENTS)
        return mn_errf(err, MN_ERR_LIMIT, "%s: %zu events, more than %u", svg_path, m->n,
                       MN_SVG_MAX_EVENTS);
    int lo = 127, hi = 0;
    size_t n_notes = 0;
    for (size_t i = 0; i < m->n; i++) {
        const mn_event *e = &m->ev[i];
        if (e->pitch != MN_REST && !mn_is_pitch(e->pitch))
            return mn_errf(err, MN_ERR_ARG, "%s: event %zu: pitch %d out of range", svg_path, i,
                           e->pitch);
        if (e->dur_ticks < 1 || e->dur_ticks > MN_MAX_DUR_TICKS)
            return mn_errf(err, MN_ERR_ARG, "%s: event %zu: duration %d ticks out of range",
                           svg_path, i, e->dur_ticks);
        if (e->bar_ticks < 1 || e->bar_ticks > MN_MAX_BAR_TICKS || e->pos_ticks < 0 ||
            e->pos_ticks >= e->bar_ticks)
            return mn_errf(err, MN_ERR_ARG, "%s: event %zu: position %d in a bar of %d ticks "
                           "out of range", svg_path, i, e->pos_ticks, e->bar_ticks);
        if (e->pitch != MN_REST) {
            n_notes++;
            if (e->pitch < lo) lo = e->pitch;
            if (e->pitch > hi) hi = e->pitch;
        }
    }
    if (n_notes == 0) lo = hi = 66;
    /* a little room around the notes, and at least an octave so one note is not a wall */
    lo -= 1;
    hi += 1;
    while (hi - lo < 12) {
        if (lo > 0) lo--;
        if (hi - lo < 12 && hi < 127) hi++;
    }
    if (lo < 0) lo = 0;
    if (hi > 127) hi = 127;

    /* onsets (the first note keeps its place in bar 0) and bar starts */
    long long *onset = mn_malloc((m->n + 1) * sizeof *onset);
    long long *bars = mn_malloc((m->n + 2) * sizeof *bars); /* grows: see below */
    size_t bars_cap = m->n + 2, nb = 0;
    mn_status st = MN_OK;
    if (!onset || !bars) {
        st = mn_errf(err, MN_ERR_NOMEM, "%s: out of memory", svg_path);
        goto done;
    }
    onset[0] = m->ev[0].pos_ticks;
    for (size_t i = 0; i < m->n; i++) onset[i + 1] = onset[i] + m->ev[i].dur_ticks;
    long long end = onset[m->n];
    long long last = 0;
    int bar_len = m->ev[0].bar_ticks;
    bars[nb++] = 0;
    /* every bar start up to target (bars without an onset, under a held note, included) */
#define PUSH_BAR(t)                                                                          \
    do {                                                                                     \
        if (nb + 1 >= bars_cap) {                                                            \
            long long *nbp = mn_realloc(bars, bars_cap * 2 * sizeof *bars);                  \
            if (!nbp) {                                                                      \
                st = mn_errf(err, MN_ERR_NOMEM, "%s: out of memory", svg_path);              \
                goto done;                                                                   \
            }                                                                                \
            bars = nbp;                                                                      \
            bars_cap *= 2;                                                                   \
        }                                                                                    \
        bars[nb++] = (t);                                                                    \
    } while (0)
    for (size_t i = 0; i < m->n; i++) {
        long long start = onset[i] - m->ev[i].pos_ticks;
        if (start > last) {
            while (last + bar_len < start) {
                last += bar_len;
                PUSH_BAR(last);
            }
            last = start;
            PUSH_BAR(last);
        }
        /* an onset that claims an earlier bar start than one already drawn (inconsistent
         * positions) keeps the drawn one */
        if (start == last) bar_len = m->ev[i].bar_ticks;
    }
    while (last + bar_len < end) {
        last += bar_len;
        PUSH_BAR(last);
    }
    long long closing = last + bar_len;
    /* bars[nb] is the closing line, so bar k spans [bars[k], bars[k+1]) */
    PUSH_BAR(closing);
    nb--;
#undef PUSH_BAR

    /* rows of whole bars, each at most about row_cap ticks wide */
    const double ppt = 36.0 / MN_TPQ; /* pixels per tick: 36 per quarter note */
    const long long row_cap = 960;
    size_t *row_first = mn_malloc((nb + 1) * sizeof *row_first); /* first bar of each row */
    if (!row_first) {
        st = mn_errf(err, MN_ERR_NOMEM, "%s: out of memory", svg_path);
        goto done;
    }
    size_t n_rows = 0;
    long long widest = 0;
    for (size_t k = 0; k < nb;) {
        row_first[n_rows++] = k;
        size_t j = k + 1;
        while (j < nb && bars[j + 1] - bars[k] <= row_cap) j++;
        if (bars[j] - bars[k] > widest) widest = bars[j] - bars[k];
        k = j;
    }
    row_first[n_rows] = nb;

    int span = hi - lo + 1;
    double sh = n_rows <= 2 ? 9 : n_rows <= 6 ? 7 : n_rows <= 20 ? 5 : 4; /* px per semitone */
    if (span > 48) sh = fmax(3, sh * 48 / span);
    const double ml = 46, mr = 20, mt = 58, row_gap = 40;
    double row_h = span * sh;
    double pw = widest * ppt;
    double W = ml + pw + mr;
    if (W < 520) W = 520;
    double H = mt + n_rows * (row_h + row_gap) + 20;

    mn_sbuf b = {0};
    const char *name = title ? title : m->name;
    mn_sbuf_printf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    mn_sbuf_printf(&b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                  "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"11\">\n",
              W, H, W, H);
    mn_sbuf_printf(&b, "<title>");
    sb_esc(&b, name && *name ? name : "piano roll");
    mn_sbuf_printf(&b, "</title>\n<rect width=\"%.0f\" height=\"%.0f\" fill=\"white\"/>\n", W, H);
    mn_sbuf_printf(&b, "<text x=\"%.1f\" y=\"22\" font-size=\"15\">", ml);
    sb_esc(&b, name && *name ? name : "piano roll");
    mn_sbuf_printf(&b, "</text>\n<text x=\"%.1f\" y=\"40\" fill=\"#555\">%zu notes, %zu rests, "
                  "%zu bars, %d/%d, %.0f bpm; time in beats (quarter notes), lines mark bars"
                  "</text>\n", ml, n_notes, m->n - n_notes, nb, m->ts_num, m->ts_den, m->bpm);

    size_t j = 0; /* first event that may reach into the current row */
    for (size_t r = 0; r < n_rows; r++) {
        long long r0 = bars[row_first[r]], r1 = bars[row_first[r + 1]];
        double top = mt + r * (row_h + row_gap) + 14;
        double wr = (r1 - r0) * ppt;
        mn_sbuf_printf(&b, "<g class=\"row\">\n");
        mn_sbuf_printf(&b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"white\" "
                      "stroke=\"#bbb\"/>\n", ml, top, wr, row_h);
        for (int p = lo; p <= hi; p++) {
            double y = top + (hi - p) * sh;
            if (is_black_key(p))
                mn_sbuf_printf(&b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                              "fill=\"#f2f2f2\"/>\n", ml, y, wr, sh);
            if (p % 12 == 0) {
                char nm[8];
                mn_sbuf_printf(&b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                              "stroke=\"#ccc\"/>\n", ml, y + sh, ml + wr, y + sh);
                mn_sbuf_printf(&b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#555\">%s"
                              "</text>\n", ml - 4, y + sh, mn_pitch_name(p, nm));
            }
        }
        /* faint quarter-note lines, then bar lines with bar numbers above and beats below */
        for (long long t = (r0 + MN_TPQ - 1) / MN_TPQ * MN_TPQ; t < r1; t += MN_TPQ)
            mn_sbuf_printf(&b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                          "stroke=\"#eee\"/>\n", ml + (t - r0) * ppt, top, ml + (t - r0) * ppt,
                      top + row_h);
        size_t kend = row_first[r + 1] + (r + 1 == n_rows ? 1 : 0);
        for (size_t k = row_first[r]; k < kend; k++) {
            double x = ml + (bars[k] - r0) * ppt;
            mn_sbuf_printf(&b, "<line class=\"bar\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                          "stroke=\"#666\"/>\n", x, top - 4, x, top + row_h);
            if (k < nb)
                mn_sbuf_printf(&b, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"9\" fill=\"#888\">%zu"
                              "</text>\n", x + 2, top - 3, k + 1);
            mn_sbuf_printf(&b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#555\">"
                          "%g</text>\n", x, top + row_h + 13, (double)bars[k] / MN_TPQ);
        }
        while (j < m->n && onset[j + 1] <= r0) j++;
        mn_sbuf_printf(&b, "<g fill=\"#2b5d9b\" stroke=\"#17375e\" stroke-width=\"0.5\">\n");
        for (size_t i = j; i < m->n && onset[i] < r1; i++) {
            const mn_event *e = &m->ev[i];
            if (e->pitch == MN_REST || onset[i + 1] <= r0) continue;
            long long a = onset[i] > r0 ? onset[i] : r0;
            long long z = onset[i + 1] < r1 ? onset[i + 1] : r1;
            double x = ml + (a - r0) * ppt, w = (z - a) * ppt - 1;
            if (w < 1) w = 1;
            int vel = e->velocity < 1 ? 1 : e->velocity > 127 ? 127 : e->velocity;
            mn_sbuf_printf(&b, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                          "height=\"%.1f\" fill-opacity=\"%.2f\"/>\n",
                      onset[i] >= r0 ? "note" : "note-cont", x, top + (hi - e->pitch) * sh, w,
                      sh > 2 ? sh - 1 : sh, 0.2 + 0.8 * vel / 127.0);
        }
        mn_sbuf_printf(&b, "</g>\n</g>\n");
    }
    mn_sbuf_printf(&b, "</svg>\n");
    st = write_atomic(svg_path, &b, err);
    mn_free(b.buf);
    mn_free(row_first);
done:
    mn_free(onset);
    mn_free(bars);
    return st;
}
