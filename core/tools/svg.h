/* svg.h - pictures written as plain SVG text, with no plotting stack: the trainer's learning
 * curve (from its CSV log) and piano rolls of melodies. Every picture is written to a
 * temporary file beside the target and renamed, so a failure leaves no partial file. */
#ifndef MN_SVG_H
#define MN_SVG_H

#include "base.h"
#include "event.h"

#define MN_SVG_MAX_CSV_BYTES (64u << 20) /* larger logs are refused */
#define MN_SVG_MAX_EVENTS (4u << 20)     /* longest melody drawn */
#define MN_SVG_MAX_VALUE 1e15            /* larger log values are left out, like nan and inf */

/* Draws the trainer's CSV log (a header line naming the columns, then one row per log point)
 * as a learning curve. Columns are found by name, in any order; unknown columns are ignored and
 * empty values mean "not logged here"; nan, inf and values beyond +-MN_SVG_MAX_VALUE (a
 * diverged run) leave their point out. Used: epoch, step, train_loss (nats per event, drawn as
 * bits = nats / ln 2 so it shares the axis with the validation figures), valid_bits_pitch,
 * valid_bits_duration, valid_bits_total. The x axis is the epoch when every row has its own
 * epoch value, else the step (with a dashed line where each epoch starts), else the row number.
 * Fails with MN_ERR_IO when the log cannot be read or the picture written, MN_ERR_FORMAT for a
 * missing header, a row with a non-numeric value or no row with a value to draw. */
mn_status mn_svg_learning_curve(const char *csv_path, const char *svg_path, char *err);

/* Draws a piano roll of m: time in beats (quarter notes) with a line at every bar (bar starts
 * come from each event's pos_ticks/bar_ticks; silence before the first note is kept, so a
 * pickup sits where it belongs), pitch with names at every C, notes as rectangles whose opacity
 * is the velocity, rests as gaps. Long melodies wrap into several rows of whole bars. title
 * (may be NULL: then m->name) is escaped. In the SVG each note's rectangle has class "note"
 * (a note held across a row break continues in a rectangle of class "note-cont") and each bar
 * line class "bar" (one per bar start plus one closing line), which tests count.
 * MN_ERR_EMPTY for a melody with no events, MN_ERR_ARG for an event out of range,
 * MN_ERR_LIMIT beyond MN_SVG_MAX_EVENTS, MN_ERR_IO when the file cannot be written. */
mn_status mn_svg_piano_roll(const mn_melody *m, const char *title, const char *svg_path,
                            char *err);

#endif
