/* A 10 MiB malloc, touched, checked and freed; then many small ones. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BIG (10 * 1024 * 1024)

int main(void)
{
    unsigned char *p = malloc(BIG);
    if (!p) {
        printf("malloc failed\n");
        return 1;
    }
    memset(p, 0xab, BIG);
    unsigned long sum = 0;
    for (size_t i = 0; i < BIG; i += 4096)
        sum += p[i];
    free(p);
    printf("big block: sum %lu\n", sum);

    void *small[1000];
    for (int i = 0; i < 1000; i++) {
        small[i] = malloc(16 + i * 8);
        memset(small[i], i & 0xff, 16 + i * 8);
    }
    int bad = 0;
    for (int i = 0; i < 1000; i++) {
        if (((unsigned char *)small[i])[i * 8] != (i & 0xff))
            bad++;
        free(small[i]);
    }
    printf("small blocks: %d bad\n", bad);
    char *r = malloc(100);
    strcpy(r, "grown by realloc");
    r = realloc(r, 1 << 20);
    printf("%s\n", r);
    free(r);
    return 0;
}
