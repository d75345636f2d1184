/*
 * Helpers shared by the C test programs: a CHECK that counts failures instead of
 * stopping, a loopback connect, a monotonic clock, a send of a whole string, and one
 * request's exchange.
 */
#ifndef ROOST_CHECK_H
#define ROOST_CHECK_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "roost.h"

static atomic_int failures;

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s:%d: CHECK failed: %s (last error: %s)\n", __FILE__,        \
                    __LINE__, #cond, roost_last_error());                                  \
            atomic_fetch_add(&failures, 1);                                                \
        }                                                                                  \
    } while (0)

/* A socket connected to 127.0.0.1:port, or -1. */
static int connect_loopback(uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Seconds on the monotonic clock. */
static inline double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Sends the NUL-terminated `bytes` whole (or until the peer is gone). */
static inline void send_all(int fd, const char *bytes) {
    size_t len = strlen(bytes), sent = 0;
    while (sent < len) {
        ssize_t n = send(fd, bytes + sent, len - sent, MSG_NOSIGNAL);
        if (n <= 0) return;
        sent += (size_t)n;
    }
}

/* Sends `request` on a new connection to `port` and reads the answer until the server
 * closes or 20 s pass, into `out` (NUL-terminated, at most `cap` - 1 bytes). */
static inline size_t exchange_text(uint16_t port, const char *request, char *out, size_t cap) {
    int fd = connect_loopback(port);
    size_t got = 0;
    if (fd >= 0) {
        send_all(fd, request);
        double deadline = now_s() + 20;
        while (got < cap - 1 && now_s() < deadline) {
            struct pollfd pfd = {fd, POLLIN, 0};
            if (poll(&pfd, 1, 100) <= 0) continue;
            ssize_t n = recv(fd, out + got, cap - 1 - got, 0);
            if (n <= 0) break;
            got += (size_t)n;
        }
        close(fd);
    }
    out[got] = '\0';
    return got;
}

/* Prints the verdict and gives the exit status. */
static int finish_checks(const char *program) {
    int failed = atomic_load(&failures);
    if (failed) {
        fprintf(stderr, "%s: %d check(s) failed\n", program, failed);
        return 1;
    }
    printf("%s: all checks passed\n", program);
    return 0;
}

#endif
