/* zed.c: a file for wordexp(3)'s "[a-c]*.c" */
