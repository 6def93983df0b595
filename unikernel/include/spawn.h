#ifndef _SPAWN_H
#define _SPAWN_H
#include <_unikernel.h>
/* posix_spawn runs the image named by the basename of `path` from the
 * device's image directory, with the file actions applied in order. */
typedef struct {
    int __count;
    int __actions[32][3];
} posix_spawn_file_actions_t;
typedef struct {
    int __flags;
    int __pad[15];
} posix_spawnattr_t;
int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                const posix_spawnattr_t *attr, char *const argv[], char *const envp[]);
int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                 const posix_spawnattr_t *attr, char *const argv[], char *const envp[]);
int posix_spawn_file_actions_init(posix_spawn_file_actions_t *fa);
int posix_spawn_file_actions_destroy(posix_spawn_file_actions_t *fa);
int posix_spawn_file_actions_addclose(posix_spawn_file_actions_t *fa, int fd);
int posix_spawn_file_actions_adddup2(posix_spawn_file_actions_t *fa, int fd, int newfd);
int posix_spawnattr_init(posix_spawnattr_t *attr);
int posix_spawnattr_destroy(posix_spawnattr_t *attr);
#endif
