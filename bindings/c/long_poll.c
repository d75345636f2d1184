/*
 * long_poll: responses finished later by another thread. GET /poll waits for the next
 * tick of a timer thread (every PERIOD ms) and gets its number; a client that leaves
 * first is dropped from the waiting list by roost_response_on_close. GET /waiting says how
 * many wait (answered at once).
 *
 *     make && target/debug/c-samples/long_poll 8080 1000
 *     curl http://127.0.0.1:8080/poll              -> tick 3 (after up to a second)
 *
 * Usage: long_poll [PORT] [PERIOD]   (PORT defaults to 8080, 0 picks a free one; PERIOD
 * to 1000 ms). Prints one line once listening, then serves until SIGINT or SIGTERM.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "roost.h"

/* The responses waiting for the next tick. The handler adds to it on an I/O thread, the
 * timer thread finishes them, on_close removes a client that left: hence the lock. */
#define MAX_WAITING 20000
static roost_response *waiting[MAX_WAITING];
static size_t waiting_count;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
/* Signalled to stop the ticker at once rather than at its next tick. */
static pthread_cond_t stop_ticker = PTHREAD_COND_INITIALIZER;
static int running = 1;
static long period_ms = 1000;

static void forget(roost_response *res) {
    for (size_t i = 0; i < waiting_count; i++) {
        if (waiting[i] == res) {
            waiting[i] = waiting[--waiting_count];
            return;
        }
    }
}

/* The client left before its tick: finish the handle (it gives ROOST_ERR_CLOSED) so that
 * roost can release it. Runs on an I/O thread; it must not block for long. */
static void client_left(roost_response *res, void *userdata) {
    (void)userdata;
    pthread_mutex_lock(&lock);
    forget(res);
    pthread_mutex_unlock(&lock);
    roost_response_finish(res);
}

static int32_t poll_handler(roost_request *req, roost_response *res, void *userdata) {
    (void)req;
    (void)userdata;
    pthread_mutex_lock(&lock);
    if (waiting_count == MAX_WAITING) {
        pthread_mutex_unlock(&lock);
        roost_response_set_status(res, 503);
        return ROOST_HANDLER_DONE;
    }
    waiting[waiting_count++] = res;
    /* Registered under the lock: client_left cannot run before the handle is listed. */
    roost_response_on_close(res, client_left, NULL);
    pthread_mutex_unlock(&lock);
    return ROOST_HANDLER_DEFERRED;
}

/* GET /waiting: answered at once, with how many wait. */
static int32_t waiting_handler(roost_request *req, roost_response *res, void *userdata) {
    (void)req;
    (void)userdata;
    pthread_mutex_lock(&lock);
    size_t count = waiting_count;
    pthread_mutex_unlock(&lock);
    char body[32];
    int n = snprintf(body, sizeof body, "%zu\n", count);
    roost_response_set_body(res, body, (size_t)n);
    return ROOST_HANDLER_DONE;
}

/* Every period, answers everyone waiting with the tick's number. */
static void *ticker(void *arg) {
    (void)arg;
    pthread_mutex_lock(&lock);
    for (unsigned long tick = 1;; tick++) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += period_ms / 1000;
        until.tv_nsec += (period_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec += 1;
            until.tv_nsec -= 1000000000L;
        }
        while (running && pthread_cond_timedwait(&stop_ticker, &lock, &until) == 0) {
        }
        if (!running) break;
        char body[64];
        int n = snprintf(body, sizeof body, "tick %lu\n", tick);
        for (size_t i = 0; i < waiting_count; i++) {
            roost_response_add_header(waiting[i], "Content-Type", 12, "text/plain", 10);
            roost_response_set_body(waiting[i], body, (size_t)n);
            /* No on_close runs once this has begun; one that began first (it waits for our
             * lock) finds the handle finished and gets ROOST_ERR_STATE. */
            roost_response_finish(waiting[i]);
        }
        waiting_count = 0;
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

int main(int argc, char **argv) {
    int port = argc > 1 ? atoi(argv[1]) : 8080;
    if (argc > 2) period_ms = atol(argv[2]);

    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    roost_options opts;
    roost_options_init(&opts, sizeof opts);
    opts.port = (uint16_t)port;
    roost_server *srv;
    roost_result r = roost_server_new(&opts, &srv);
    if (r == ROOST_OK) r = roost_server_route(srv, "GET", 3, "/poll", 5, poll_handler, NULL);
    if (r == ROOST_OK) r = roost_server_route(srv, "GET", 3, "/waiting", 8, waiting_handler, NULL);
    if (r == ROOST_OK) r = roost_server_start(srv);
    if (r != ROOST_OK) {
        fprintf(stderr, "long_poll: %s (%s)\n", roost_result_str(r), roost_last_error());
        return 2;
    }
    pthread_t timer;
    pthread_create(&timer, NULL, ticker, NULL);
    printf("long_poll: serving on http://127.0.0.1:%u/poll\n", (unsigned)roost_server_port(srv));
    fflush(stdout);

    int signal_number;
    sigwait(&stop, &signal_number);
    pthread_mutex_lock(&lock);
    running = 0;
    pthread_cond_signal(&stop_ticker);
    pthread_mutex_unlock(&lock);
    pthread_join(timer, NULL);
    roost_server_free(srv);
    return 0;
}
