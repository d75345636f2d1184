/*
 * upload: a route that takes request bodies as they arrive. POST /upload streams its
 * body to the handler (roost_route_options.stream_body), which reads it 64 KiB at a time
 * with roost_request_read and answers how many bytes came: however large the upload,
 * the server holds only about its stream buffer of it (256 KiB by default) and one read,
 * since it reads from the client only as fast as the handler reads. The handler runs on
 * a handler thread (the server starts 4 for such routes), so blocking in
 * roost_request_read holds up no I/O thread; each upload in progress holds its handler
 * thread, so at most 4 are read at once here (more wait their turn).
 *
 *     make && target/debug/c-samples/upload 8080
 *     curl -T big.iso http://127.0.0.1:8080/upload      -> received 4700372992 bytes
 *
 * Usage: upload [PORT]   (PORT defaults to 8080, 0 picks a free one). Prints one line
 * once listening, then serves until SIGINT or SIGTERM.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "roost.h"

static int count_bytes(roost_request *req, roost_response *res, void *userdata) {
    (void)userdata;
    static _Thread_local char buf[64 * 1024];
    unsigned long long total = 0;
    for (;;) {
        size_t n;
        /* Blocks until bytes arrive; 0 at the end. On failure (client gone, stalled, bad
         * framing) FAILED answers with the status the failure deserves. */
        if (roost_request_read(req, buf, sizeof buf, &n) != ROOST_OK) return ROOST_HANDLER_FAILED;
        if (n == 0) break;
        total += n;
    }
    char body[64];
    int len = snprintf(body, sizeof body, "received %llu bytes\n", total);
    roost_response_add_header(res, "Content-Type", 12, "text/plain", 10);
    roost_response_set_body(res, body, (size_t)len);
    return ROOST_HANDLER_DONE;
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
    roost_route_options route;
    roost_route_options_init(&route, sizeof route);
    route.stream_body = true;
    route.max_body_bytes = 1ULL << 40; /* 1 TiB: a streamed body need not fit in memory */
    roost_server *srv = NULL;
    if (roost_server_new(&opts, &srv) != ROOST_OK ||
        roost_server_route_with(srv, "POST", 4, "/upload", 7, count_bytes, NULL, &route) != ROOST_OK ||
        roost_server_route_with(srv, "PUT", 3, "/upload", 7, count_bytes, NULL, &route) != ROOST_OK ||
        roost_server_start(srv) != ROOST_OK) {
        fprintf(stderr, "upload: %s\n", roost_last_error());
        return 1;
    }
    printf("upload: serving on http://127.0.0.1:%u/\n", roost_server_port(srv));
    fflush(stdout);
    int sig;
    sigwait(&stop_signals, &sig);
    roost_server_stop(srv);
    roost_server_free(srv);
    return 0;
}
