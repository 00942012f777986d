/* placeholder until the decoder lands; replaced by the btc parser work */
#include <stdio.h>

#include "cli/commands.h"

int cmd_decode(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "coinhound decode: not built yet\n");
    return 2;
}
