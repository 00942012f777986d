/* The coinhound subcommands. Each lives in its own cmd_<name>.c, takes the
 * arguments after its name (argv[0] is the subcommand) and returns the exit
 * code: 0 ok, 1 a negative answer (a flagged address, a failed check), 2 an
 * error (bad usage, bad input, I/O). */
#ifndef COINHOUND_CLI_COMMANDS_H
#define COINHOUND_CLI_COMMANDS_H

typedef struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} cli_command;

int cmd_decode(int argc, char **argv);
int cmd_ingest(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_tx(int argc, char **argv);
int cmd_block(int argc, char **argv);
int cmd_address(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_cluster(int argc, char **argv);
int cmd_screen(int argc, char **argv);
int cmd_intel(int argc, char **argv);
int cmd_poison(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_alerts(int argc, char **argv);
int cmd_report(int argc, char **argv);

#endif
