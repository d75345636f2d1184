/*
 * test_queue: routes answered by the host's own threads (a NULL handler, then
 * roost_server_next). Checks over real sockets that several host threads share the
 * requests, that each request's handles carry its route's userdata, that a wait times out
 * with ROOST_ERR_TIMEOUT, and that a stop wakes the waiting threads with ROOST_ERR_STATE.
 * Run by `cargo test` (tests/c_samples.rs), under valgrind when it is installed. Exits 0
 * when every check passes.
 */
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>

#include "check.h"

#define S(literal) literal, (sizeof literal - 1)
#define THREADS 3
#define REQUESTS 12

static int jobs_tag;
static atomic_int answered;

/* A host thread: takes requests until the server stops. */
static void *host_thread(void *arg) {
    roost_server *srv = arg;
    for (;;) {
        roost_request *req;
        roost_response *res;
        roost_result r = roost_server_next(srv, -1, &req, &res);
        if (r == ROOST_ERR_STATE) break;
        CHECK(r == ROOST_OK);
        if (r != ROOST_OK) break;
        CHECK(roost_request_userdata(req) == &jobs_tag);
        roost_str id;
        CHECK(roost_request_param(req, S("id"), &id) == ROOST_OK);
        char body[64];
        int n = snprintf(body, sizeof body, "job %.*s", (int)id.len, id.ptr);
        CHECK(roost_response_set_body(res, body, (size_t)n) == ROOST_OK);
        CHECK(roost_response_finish(res) == ROOST_OK);
        atomic_fetch_add(&answered, 1);
    }
    return NULL;
}

int main(void) {
    roost_options opts;
    CHECK(roost_options_init(&opts, sizeof opts) == ROOST_OK);
    opts.port = 0;
    opts.threads = 1;
    roost_server *srv = NULL;
    CHECK(roost_server_new(&opts, &srv) == ROOST_OK);
    CHECK(roost_server_route(srv, S("GET"), S("/jobs/{id}"), NULL, &jobs_tag) == ROOST_OK);
    roost_request *req;
    roost_response *res;
    CHECK(roost_server_next(srv, 0, &req, &res) == ROOST_ERR_STATE); /* not running */
    CHECK(roost_server_start(srv) == ROOST_OK);
    uint16_t port = roost_server_port(srv);
    CHECK(roost_server_next(NULL, 0, &req, &res) == ROOST_ERR_NULL);
    CHECK(roost_server_next(srv, 0, NULL, &res) == ROOST_ERR_NULL);
    CHECK(roost_server_next(srv, 10, &req, &res) == ROOST_ERR_TIMEOUT);

    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++) CHECK(pthread_create(&threads[i], NULL, host_thread, srv) == 0);
    for (int i = 0; i < REQUESTS; i++) {
        char path[32], reply[1024], expected[32];
        snprintf(path, sizeof path, "/jobs/%d", i);
        char request[256];
        snprintf(request, sizeof request,
                 "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", path);
        exchange_text(port, request, reply, sizeof reply);
        snprintf(expected, sizeof expected, "\r\n\r\njob %d", i);
        CHECK(strncmp(reply, "HTTP/1.1 200 OK\r\n", 17) == 0);
        CHECK(strstr(reply, expected) != NULL);
    }
    CHECK(roost_server_stop(srv) == ROOST_OK);
    for (int i = 0; i < THREADS; i++) pthread_join(threads[i], NULL);
    CHECK(atomic_load(&answered) == REQUESTS);
    CHECK(roost_server_next(srv, 0, &req, &res) == ROOST_ERR_STATE);
    CHECK(roost_server_free(srv) == ROOST_OK);
    return finish_checks("test_queue");
}
