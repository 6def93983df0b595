/* producer [N]: writes N numbered lines to stdout. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 10;
    for (int i = 1; i <= n; i++)
        printf("line %03d: the quick brown fox jumps over the lazy dog\n", i);
    return 0;
}
