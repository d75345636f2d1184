/*
 * stream: a response body produced over time by a thread of the host's, with backpressure.
 * GET /bytes/{n} streams n bytes (a repeating alphabet) in 64 KiB writes from a producer
 * thread; when roost_response_write says ROOST_ERR_AGAIN (the client reads slower than the
 * thread writes), the thread waits for roost_response_on_writable. A client that leaves
 * ends the producer at its next write (ROOST_ERR_CLOSED). With a DIR, the files below it
 * are served too, so that a streamed body and sendfile(2) can be compared on one server.
 *
 *     make && target/debug/c-samples/stream 8080
 *     curl -o /dev/null http://127.0.0.1:8080/bytes/1073741824
 *
 * Usage: stream [PORT] [DIR]   (PORT defaults to 8080, 0 picks a free one). Prints one
 * line once listening, then serves until SIGINT or SIGTERM.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roost.h"

#define PIECE (64 * 1024)

/* One streamed response and what its producer waits on. */
struct producer {
    roost_response *res;
    unsigned long long left;
    pthread_mutex_t lock;
    pthread_cond_t room;
    int writable;
};

/* Runs on an I/O thread once the stream has room again (or its client left): it only
 * wakes the producer. */
static void on_writable(roost_response *res, void *userdata) {
    (void)res;
    struct producer *p = userdata;
    pthread_mutex_lock(&p->lock);
    p->writable = 1;
    pthread_cond_signal(&p->room);
    pthread_mutex_unlock(&p->lock);
}

/* Writes one piece, waiting while the stream is full. Returns ROOST_OK, or why not. */
static roost_result write_piece(struct producer *p, const char *data, size_t len) {
    for (;;) {
        roost_result r = roost_response_write(p->res, data, len);
        if (r != ROOST_ERR_AGAIN) return r;
        pthread_mutex_lock(&p->lock);
        p->writable = 0;
        pthread_mutex_unlock(&p->lock);
        /* The callback may run at once, on an I/O thread: the flag is cleared first. */
        r = roost_response_on_writable(p->res, on_writable, p);
        if (r != ROOST_OK) return r;
        pthread_mutex_lock(&p->lock);
        while (!p->writable) pthread_cond_wait(&p->room, &p->lock);
        pthread_mutex_unlock(&p->lock);
    }
}

/* What the pieces are cut from: the alphabet, over and over (26 bytes of slack, so that
 * each piece may start at any letter). */
static char piece[PIECE + 26];
static pthread_once_t piece_filled = PTHREAD_ONCE_INIT;

static void fill_piece(void) {
    for (size_t i = 0; i < sizeof piece; i++) piece[i] = (char)('a' + i % 26);
}

static void *produce(void *arg) {
    struct producer *p = arg;
    roost_result r = ROOST_OK;
    unsigned long long sent = 0;
    while (sent < p->left && r == ROOST_OK) {
        /* Each piece starts where the alphabet stands in the body. */
        size_t at = (size_t)(sent % 26);
        size_t len = p->left - sent < PIECE ? (size_t)(p->left - sent) : PIECE;
        r = write_piece(p, piece + at, len);
        sent += len;
    }
    /* ROOST_ERR_CLOSED: the client left; the handle is finished all the same. */
    roost_response_finish(p->res);
    pthread_cond_destroy(&p->room);
    pthread_mutex_destroy(&p->lock);
    free(p);
    return NULL;
}

/* GET /bytes/{n}: the head leaves now, the body comes from a producer thread. */
static int32_t bytes_handler(roost_request *req, roost_response *res, void *userdata) {
    (void)userdata;
    roost_str n;
    if (roost_request_param(req, "n", 1, &n) != ROOST_OK) return ROOST_HANDLER_FAILED;
    char digits[24] = {0};
    memcpy(digits, n.ptr, n.len < sizeof digits - 1 ? n.len : sizeof digits - 1);
    struct producer *p = calloc(1, sizeof *p);
    if (!p) return ROOST_HANDLER_FAILED;
    p->res = res;
    p->left = strtoull(digits, NULL, 10);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->room, NULL);
    roost_response_add_header(res, "Content-Type", 12, "application/octet-stream", 24);
    roost_response_stream(res);
    pthread_once(&piece_filled, fill_piece);
    pthread_t t;
    if (pthread_create(&t, NULL, produce, p) != 0) {
        roost_response_abort(res);
        free(p);
        return ROOST_HANDLER_DEFERRED;
    }
    pthread_detach(t);
    return ROOST_HANDLER_DEFERRED;
}

int main(int argc, char **argv) {
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    /* Blocked before any thread starts, so that only sigwait below takes them. */
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);

    roost_options opts;
    roost_options_init(&opts, sizeof opts);
    opts.port = argc > 1 ? (uint16_t)atoi(argv[1]) : 8080;
    roost_server *srv = NULL;
    if (roost_server_new(&opts, &srv) != ROOST_OK ||
        roost_server_route(srv, "GET", 3, "/bytes/{n}", 10, bytes_handler, NULL) != ROOST_OK ||
        (argc > 2 && roost_server_static(srv, "/", 1, argv[2], strlen(argv[2])) != ROOST_OK) ||
        roost_server_start(srv) != ROOST_OK) {
        fprintf(stderr, "stream: %s\n", roost_last_error());
        return 1;
    }
    printf("stream: serving on http://127.0.0.1:%u/\n", roost_server_port(srv));
    fflush(stdout);
    int sig;
    sigwait(&stop_signals, &sig);
    roost_server_stop(srv);
    roost_server_free(srv);
    return 0;
}
