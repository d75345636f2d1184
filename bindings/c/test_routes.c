/*
 * test_routes: route options (roost_route_options, roost_server_route_with). Checks over
 * real sockets that a route's own content limit answers 413 before any 100 Continue, below
 * and above the server's limit; that a route marked quick runs on the I/O thread even
 * when the server has handler threads; and that each route's free_userdata runs once: when
 * the server is freed, or at once when the registration fails. Run by `cargo test`
 * (tests/c_samples.rs), under valgrind when it is installed. Exits 0 when every check
 * passes.
 */
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>

#include "check.h"

#define S(literal) literal, (sizeof literal - 1)

static atomic_int freed[4];

static void free_counter(void *userdata) { atomic_fetch_add((atomic_int *)userdata, 1); }

static char thread_seen[32];

static int32_t echo_length(roost_request *req, roost_response *res, void *userdata) {
    (void)userdata;
    pthread_getname_np(pthread_self(), thread_seen, sizeof thread_seen);
    char text[32];
    int n = snprintf(text, sizeof text, "%zu", roost_request_body(req).len);
    roost_response_set_body(res, text, (size_t)n);
    return ROOST_HANDLER_DONE;
}

int main(void) {
    roost_route_options ropts;
    CHECK(roost_route_options_init(NULL, sizeof ropts) == ROOST_ERR_NULL);
    CHECK(roost_route_options_init(&ropts, sizeof ropts + 8) == ROOST_ERR_INVALID);
    CHECK(roost_route_options_init(&ropts, sizeof ropts) == ROOST_OK);
    CHECK(ropts.max_body_bytes == 0 && ropts.on_handler_thread && ropts.free_userdata == NULL);

    roost_options opts;
    roost_options_init(&opts, sizeof opts);
    opts.port = 0;
    opts.max_body_bytes = 10;
    opts.handler_threads = 1;
    roost_server *srv = NULL;
    CHECK(roost_server_new(&opts, &srv) == ROOST_OK);

    ropts.free_userdata = free_counter;
    ropts.max_body_bytes = 5;
    ropts.on_handler_thread = false;
    CHECK(roost_server_route_with(srv, S("POST"), S("/small"), echo_length, &freed[0], &ropts) ==
          ROOST_OK);
    ropts.max_body_bytes = 20;
    ropts.on_handler_thread = true;
    CHECK(roost_server_route_with(srv, S("POST"), S("/big"), echo_length, &freed[1], &ropts) ==
          ROOST_OK);
    /* A registration that fails frees its userdata at once. */
    CHECK(roost_server_route_with(srv, S("post"), S("/bad"), echo_length, &freed[2], &ropts) ==
          ROOST_ERR_INVALID);
    CHECK(atomic_load(&freed[2]) == 1);
    CHECK(roost_server_route_with(srv, S("POST"), S("/plain"), echo_length, &freed[3], NULL) ==
          ROOST_OK);
    CHECK(roost_server_start(srv) == ROOST_OK);
    uint16_t port = roost_server_port(srv);
    char reply[4096];

    exchange_text(port, "POST /small HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                   "Content-Length: 5\r\n\r\n12345", reply, sizeof reply);
    CHECK(strncmp(reply, "HTTP/1.1 200 OK\r\n", 17) == 0 && strstr(reply, "\r\n\r\n5") != NULL);
    /* Quick: answered on the I/O thread that read it, though handler threads exist. */
    CHECK(strncmp(thread_seen, "roost-worker", 12) == 0);
    exchange_text(port, "POST /small HTTP/1.1\r\nHost: t\r\nContent-Length: 6\r\n\r\n123456", reply,
             sizeof reply);
    CHECK(strncmp(reply, "HTTP/1.1 413 ", 13) == 0);
    /* Refused from the head alone: a client waiting to be told to send never is. */
    exchange_text(port, "POST /small HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
                   "Content-Length: 100\r\n\r\n", reply, sizeof reply);
    CHECK(strncmp(reply, "HTTP/1.1 413 ", 13) == 0);
    CHECK(strstr(reply, "100 Continue") == NULL);
    /* Chunked content is held to the route's limit too. */
    exchange_text(port, "POST /small HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "6\r\n123456\r\n0\r\n\r\n", reply, sizeof reply);
    CHECK(strncmp(reply, "HTTP/1.1 413 ", 13) == 0);
    /* Above the server's limit (10), within the route's (20). */
    exchange_text(port, "POST /big HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                   "Content-Length: 15\r\n\r\n123456789012345", reply, sizeof reply);
    CHECK(strstr(reply, "\r\n\r\n15") != NULL);
    CHECK(strncmp(thread_seen, "roost-handler", 13) == 0);
    exchange_text(port, "POST /plain HTTP/1.1\r\nHost: t\r\nContent-Length: 15\r\n\r\n123456789012345",
             reply, sizeof reply);
    CHECK(strncmp(reply, "HTTP/1.1 413 ", 13) == 0);

    CHECK(roost_server_stop(srv) == ROOST_OK);
    CHECK(atomic_load(&freed[0]) == 0 && atomic_load(&freed[1]) == 0);
    CHECK(roost_server_free(srv) == ROOST_OK);
    /* Freed once each, with the server; the route without the callback had none. */
    CHECK(atomic_load(&freed[0]) == 1 && atomic_load(&freed[1]) == 1);
    CHECK(atomic_load(&freed[2]) == 1 && atomic_load(&freed[3]) == 0);
    return finish_checks("test_routes");
}
