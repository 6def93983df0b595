/* fork copies the unflushed stdio buffer, as on Linux: the text printed
 * without a newline before the fork comes out twice. */
#include <stdio.h>
#include <unistd.h>
#include <sys/wait.h>

int main(void)
{
    printf("unflushed before fork; ");
    pid_t pid = fork();
    if (pid == 0) {
        printf("child\n");
        return 0;
    }
    int st;
    waitpid(pid, &st, 0);
    printf("parent\n");
    return 0;
}
