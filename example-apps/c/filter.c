/* filter: copies stdin to stdout, upper-casing every line and dropping
 * the lines whose number is a multiple of 3 (a visible transformation). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    char line[256];
    int n = 0;
    while (fgets(line, sizeof line, stdin)) {
        n++;
        if (n % 3 == 0)
            continue;
        for (char *p = line; *p; p++)
            *p = (char)toupper((unsigned char)*p);
        fputs(line, stdout);
    }
    return 0;
}
