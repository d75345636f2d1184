/*
 * workers: requests answered by threads of the host's own. The route is registered with
 * no handler; THREADS threads of this program take its requests with roost_server_next
 * and answer each one (here: how many primes are below n, which takes a while for a
 * large n). roost's I/O threads never run this program's code, so a slow answer holds up
 * nothing but the thread computing it. A stop wakes the waiting threads with
 * ROOST_ERR_STATE, and they end.
 *
 *     make && target/debug/c-samples/workers 8080 4
 *     curl http://127.0.0.1:8080/primes/1000000     -> 78498
 *
 * Usage: workers [PORT] [THREADS]   (PORT defaults to 8080, 0 picks a free one; THREADS to
 * 4). Prints one line once listening, then serves until SIGINT or SIGTERM.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roost.h"

#define MAX_THREADS 64

static unsigned long primes_below(unsigned long n) {
    unsigned long count = 0;
    for (unsigned long i = 2; i < n; i++) {
        int prime = 1;
        for (unsigned long d = 2; d * d <= i; d++) {
            if (i % d == 0) {
                prime = 0;
                break;
            }
        }
        count += (unsigned long)prime;
    }
    return count;
}

/* One host thread: take a request, answer it, finish it; until the server stops. */
static void *worker(void *arg) {
    roost_server *srv = arg;
    for (;;) {
        roost_request *req;
        roost_response *res;
        roost_result r = roost_server_next(srv, -1, &req, &res);
        if (r != ROOST_OK) break; /* ROOST_ERR_STATE: the server is stopping */
        roost_str n;
        char digits[24] = {0}, body[32];
        if (roost_request_param(req, "n", 1, &n) != ROOST_OK) {
            roost_response_finish(res); /* ROOST_ERR_CLOSED: its client left */
            continue;
        }
        memcpy(digits, n.ptr, n.len < sizeof digits - 1 ? n.len : sizeof digits - 1);
        int len = snprintf(body, sizeof body, "%lu\n", primes_below(strtoul(digits, NULL, 10)));
        roost_response_add_header(res, "Content-Type", 12, "text/plain", 10);
        roost_response_set_body(res, body, (size_t)len);
        roost_response_finish(res); /* ROOST_ERR_CLOSED if the client left meanwhile */
    }
    return NULL;
}

int main(int argc, char **argv) {
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    /* Blocked before any thread starts, so that only sigwait below takes them. */
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);

    int threads = argc > 2 ? atoi(argv[2]) : 4;
    if (threads < 1 || threads > MAX_THREADS) threads = 4;
    roost_options opts;
    roost_options_init(&opts, sizeof opts);
    opts.port = argc > 1 ? (uint16_t)atoi(argv[1]) : 8080;
    roost_server *srv = NULL;
    if (roost_server_new(&opts, &srv) != ROOST_OK ||
        roost_server_route(srv, "GET", 3, "/primes/{n}", 11, NULL, NULL) != ROOST_OK ||
        roost_server_start(srv) != ROOST_OK) {
        fprintf(stderr, "workers: %s\n", roost_last_error());
        return 1;
    }
    pthread_t pool[MAX_THREADS];
    for (int i = 0; i < threads; i++) pthread_create(&pool[i], NULL, worker, srv);
    printf("workers: serving on http://127.0.0.1:%u/\n", roost_server_port(srv));
    fflush(stdout);
    int sig;
    sigwait(&stop_signals, &sig);
    roost_server_stop(srv); /* wakes the threads waiting in roost_server_next */
    for (int i = 0; i < threads; i++) pthread_join(pool[i], NULL);
    roost_server_free(srv);
    return 0;
}
