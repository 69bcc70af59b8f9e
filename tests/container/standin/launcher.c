/* /bin/desideliver in the stand-in image: a compiled launcher, like the Nix image's
 * makeBinaryWrapper program. It execs the app's Python environment with -P -m desideliver,
 * passing its own arguments on, so the Python process becomes PID 1 (no shell in between). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define PYTHON "/opt/desideliver/bin/python3"

int main(int argc, char **argv) {
    char **args = calloc((size_t)argc + 4, sizeof *args);
    if (args == NULL) {
        perror("desideliver");
        return 127;
    }
    args[0] = PYTHON;
    args[1] = "-P";
    args[2] = "-m";
    args[3] = "desideliver";
    for (int i = 1; i < argc; i++) args[i + 3] = argv[i];
    execv(PYTHON, args);
    perror("desideliver: exec " PYTHON);
    return 127;
}
