/* cli.h - the verbs of the `melodynet` command. Each takes the arguments after the verb name
 * (argv[0] is the verb), prints results on stdout and messages on stderr, and returns the
 * process exit status (0 ok, 1 failure, 2 usage error). */
#ifndef MN_CLI_H
#define MN_CLI_H

#include <stddef.h>
#include <stdio.h>

int mn_cmd_info(int argc, char **argv);
int mn_cmd_generate(int argc, char **argv);
int mn_cmd_eval(int argc, char **argv);
int mn_cmd_bench(int argc, char **argv);
int mn_cmd_train(int argc, char **argv);
int mn_cmd_prep(int argc, char **argv);
int mn_cmd_roll(int argc, char **argv);
int mn_cmd_report(int argc, char **argv);
int mn_cmd_convert(int argc, char **argv);
int mn_cmd_fitmotif(int argc, char **argv);
int mn_cmd_copyindex(int argc, char **argv);
int mn_cmd_similar(int argc, char **argv);

/* Path of the bundled default model (models/default.mnet next to the binary's ../models, or the
 * install prefix); writes into buf and returns buf, or NULL when none is found. */
const char *mn_cli_default_model(char *buf, size_t n);

/* Strict number parsing for options: returns 0 on success, -1 (after printing
 * "melodynet VERB: OPTION expects ..." on stderr) on failure. */
int mn_cli_int(const char *verb, const char *opt, const char *s, long lo, long hi, long *out);
int mn_cli_float(const char *verb, const char *opt, const char *s, double lo, double hi,
                 double *out);

/* Parses the arguments of a verb of the form `VERB [-m MODEL] -o OUT FILES...` (fit-motif,
 * copy-index). files holds argc slots. --help prints help(stdout). Returns -1 after --help,
 * 0 when parsed (at least one file and an output), or 2 after printing "melodynet VERB: ..."
 * on stderr; no_files is the message for a call without files. */
int mn_cli_model_out_files(const char *verb, int argc, char **argv, void (*help)(FILE *),
                           const char *no_files, const char **model, const char **out,
                           const char **files, size_t *n_files);

#endif
