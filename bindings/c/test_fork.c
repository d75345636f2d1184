/*
 * test_fork: a server belongs to the process that started it. A child forked after
 * roost_server_start that frees its copy of the handle (what a child cleaning up before it
 * exits does) must leave the parent's server serving: no shutdown of the shared listening
 * socket, no waiting for threads that do not exist in the child. Run by `cargo test`
 * (tests/c_samples.rs). Exits 0 when every check passes.
 */
#include <dirent.h>
#include <stdlib.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "check.h"

/* How many descriptors this process has open. */
static int open_descriptors(void) {
    DIR *dir = opendir("/proc/self/fd");
    if (!dir) return -1;
    int n = 0;
    while (readdir(dir)) n++;
    closedir(dir);
    return n;
}

static int route(roost_request *req, roost_response *res, void *userdata) {
    (void)req;
    (void)userdata;
    roost_response_set_body(res, "parent\n", 7);
    return ROOST_HANDLER_DONE;
}

/* GET / on a new connection; 1 if the parent's route answered. */
static int served(uint16_t port) {
    int fd = connect_loopback(port);
    if (fd < 0) return 0;
    const char *req = "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    send(fd, req, strlen(req), MSG_NOSIGNAL);
    char buf[1024];
    size_t have = 0;
    ssize_t n;
    while (have < sizeof buf - 1 && (n = recv(fd, buf + have, sizeof buf - 1 - have, 0)) > 0)
        have += (size_t)n;
    buf[have] = 0;
    close(fd);
    return strstr(buf, "200 OK") != NULL && strstr(buf, "\r\n\r\nparent\n") != NULL;
}

/* Whether the server closes `fd` (end of stream) within two seconds. */
static int closed_within_2s(int fd) {
    struct timeval two = {2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &two, sizeof two);
    char buf[256];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf, 0)) > 0) {
    }
    return n == 0;
}

int main(void) {
    roost_options opts;
    roost_options_init(&opts, sizeof opts);
    opts.port = 0;
    opts.threads = 2;
    opts.keepalive_timeout_ms = 300;
    roost_server *srv = NULL;
    CHECK(roost_server_new(&opts, &srv) == ROOST_OK);
    CHECK(roost_server_route(srv, "GET", 3, "/", 1, route, NULL) == ROOST_OK);
    CHECK(roost_server_start(srv) == ROOST_OK);
    uint16_t port = roost_server_port(srv);
    CHECK(served(port));

    for (int round = 0; round < 2; round++) {
        pid_t pid = fork();
        if (pid == 0) {
            /* The child: any other call is refused; freeing its copy closes the child's
             * copy of the listening socket (so a restarted parent can bind the port again),
             * nothing more. Then it runs another program, as forked children do (and which
             * also ends valgrind's view of this child: the parent's threads do not exist
             * here, so what they own cannot be freed, and a leak check of the child would
             * report it). */
            int refused = roost_server_stop(srv) == ROOST_ERR_STATE &&
                          roost_server_start(srv) == ROOST_ERR_STATE &&
                          strstr(roost_last_error(), "forked") != NULL;
            int before = open_descriptors();
            int freed = roost_server_free(srv) == ROOST_OK;
            int closed = before - open_descriptors();
            const char *code = refused && freed && closed == 1 ? "exit 0" : "exit 1";
            execl("/bin/sh", "sh", "-c", code, (char *)NULL);
            _exit(2);
        }
        int status = 0;
        CHECK(waitpid(pid, &status, 0) == pid);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        for (int i = 0; i < 3; i++) CHECK(served(port));
    }
    /* A connection the parent closes (its keep-alive ran out) ends for the client even
     * while a child holds a copy of its descriptor. */
    int idle = connect_loopback(port);
    const char *req = "GET / HTTP/1.1\r\nHost: t\r\n\r\n";
    send(idle, req, strlen(req), MSG_NOSIGNAL);
    char buf[512];
    CHECK(recv(idle, buf, sizeof buf, 0) > 0);
    pid_t holder = fork();
    if (holder == 0) {
        /* Hold the copies (an exec would close them: they are close-on-exec), then go. */
        sleep(3);
        execl("/bin/sh", "sh", "-c", "exit 0", (char *)NULL);
        _exit(2);
    }
    CHECK(closed_within_2s(idle));
    close(idle);
    waitpid(holder, NULL, 0);
    CHECK(roost_server_free(srv) == ROOST_OK);
    return finish_checks("test_fork");
}
