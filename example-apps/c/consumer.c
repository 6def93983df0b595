/* consumer: prints its stdin with a running count, then a summary. */
#include <stdio.h>
#include <string.h>

int main(void)
{
    char line[256];
    int lines = 0;
    size_t bytes = 0;
    while (fgets(line, sizeof line, stdin)) {
        lines++;
        bytes += strlen(line);
        printf("[%2d] %s", lines, line);
    }
    printf("consumer: %d lines, %zu bytes\n", lines, bytes);
    return 0;
}
