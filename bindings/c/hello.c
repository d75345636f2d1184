/*
 * hello: serve a folder and a /hello/{name} route with roost.
 *
 *     make && target/debug/c-samples/hello ./public 8080
 *     curl http://127.0.0.1:8080/hello/world      -> hi world
 *
 * Usage: hello [DIR] [PORT]   (DIR defaults to ".", PORT to 8080; 0 picks a free port)
 * Prints one line once listening, then serves until SIGINT or SIGTERM.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roost.h"

static int32_t hello(roost_request *req, roost_response *res, void *userdata) {
    (void)userdata;
    roost_str name;
    if (roost_request_param(req, "name", 4, &name) != ROOST_OK) {
        return ROOST_HANDLER_FAILED;
    }
    char body[512];
    int n = snprintf(body, sizeof body, "hi %.*s\n", (int)name.len, name.ptr);
    if (n < 0 || (size_t)n >= sizeof body) {
        roost_response_set_status(res, 414);
        return ROOST_HANDLER_DONE;
    }
    roost_response_add_header(res, "Content-Type", 12, "text/plain; charset=utf-8", 25);
    roost_response_set_body(res, body, (size_t)n);
    return ROOST_HANDLER_DONE;
}

static int fail(const char *what, roost_result result) {
    fprintf(stderr, "hello: %s: %s (%s)\n", what, roost_result_str(result), roost_last_error());
    return 2;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : ".";
    int port = argc > 2 ? atoi(argv[2]) : 8080;

    /* Block the stop signals before any thread starts, then wait for them below. */
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
    if (r != ROOST_OK) return fail("roost_server_new", r);
    if ((r = roost_server_route(srv, "GET", 3, "/hello/{name}", 13, hello, NULL)) != ROOST_OK ||
        (r = roost_server_static(srv, "/", 1, dir, strlen(dir))) != ROOST_OK ||
        (r = roost_server_start(srv)) != ROOST_OK) {
        int code = fail("setting up", r);
        roost_server_free(srv);
        return code;
    }
    printf("hello: serving %s on http://127.0.0.1:%u/\n", dir, (unsigned)roost_server_port(srv));
    fflush(stdout);

    int signal_number;
    sigwait(&stop, &signal_number);
    roost_server_free(srv); /* stops gracefully first */
    return 0;
}
