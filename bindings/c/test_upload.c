/*
 * test_upload: request bodies streamed to their handler (roost_route_options.stream_body
 * and roost_request_read). Checks over real sockets that a body arrives whole, declared
 * or chunked; that 100 Continue waits for the handler's first read, so a handler that
 * answers without reading never gets the body; that a declared body past the route's
 * limit gets 413 without 100 Continue and a chunked one fails the read (and
 * ROOST_HANDLER_FAILED then answers 413); that a client leaving mid-body fails the read
 * with ROOST_ERR_CLOSED; that a host thread reads a streamed body too; and that NULL
 * arguments are refused. Run by `cargo test` (tests/c_samples.rs), under valgrind when it
 * is installed. Exits 0 when every check passes.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>

#include "check.h"

#define S(literal) literal, (sizeof literal - 1)

static atomic_int last_read_result = -1;
static atomic_int reads_done;

/* Reads the whole body; answers its length and byte sum, or fails as the read did. */
static int count(roost_request *req, roost_response *res, void *userdata) {
    (void)userdata;
    char buf[7000];
    unsigned long long total = 0, sum = 0;
    /* 'm': the content was in memory before the first read; 's': it streams in. */
    char kind = roost_request_body(req).len > 0 ? 'm' : 's';
    roost_result r;
    for (;;) {
        size_t n = 99;
        r = roost_request_read(req, buf, sizeof buf, &n);
        if (r != ROOST_OK || n == 0) break;
        total += n;
        for (size_t i = 0; i < n; i++) sum += (unsigned char)buf[i];
    }
    atomic_store(&last_read_result, r);
    atomic_fetch_add(&reads_done, 1);
    if (r != ROOST_OK) return ROOST_HANDLER_FAILED;
    char body[64];
    int len = snprintf(body, sizeof body, "%llu %llu %c", total, sum, kind);
    CHECK(roost_response_set_body(res, body, (size_t)len) == ROOST_OK);
    return ROOST_HANDLER_DONE;
}

static int refuse(roost_request *req, roost_response *res, void *userdata) {
    (void)req;
    (void)userdata;
    CHECK(roost_response_set_status(res, 401) == ROOST_OK);
    return ROOST_HANDLER_DONE;
}

/* A host thread: reads the body of each request it takes, until the server stops. */
static void *host_thread(void *arg) {
    roost_server *srv = arg;
    for (;;) {
        roost_request *req;
        roost_response *res;
        if (roost_server_next(srv, -1, &req, &res) != ROOST_OK) break;
        if (count(req, res, NULL) != ROOST_HANDLER_DONE) roost_response_set_status(res, 400);
        CHECK(roost_response_finish(res) == ROOST_OK);
    }
    return NULL;
}

/* POST `path` with a body of `len` bytes 'a'..'z' and `extra` fields; the answer in `out`. */
static void post(uint16_t port, const char *path, size_t len, const char *extra, char *out, size_t cap) {
    size_t head_cap = 512;
    char *request = malloc(head_cap + len + 1);
    int head = snprintf(request, head_cap,
                        "POST %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n%sContent-Length: %zu\r\n\r\n",
                        path, extra, len);
    for (size_t i = 0; i < len; i++) request[head + (int)i] = (char)('a' + i % 26);
    request[head + (int)len] = '\0';
    exchange_text(port, request, out, cap);
    free(request);
}

static unsigned long long letter_sum(size_t len) {
    unsigned long long sum = 0;
    for (size_t i = 0; i < len; i++) sum += (unsigned long long)('a' + i % 26);
    return sum;
}

int main(void) {
    roost_options opts;
    CHECK(roost_options_init(&opts, sizeof opts) == ROOST_OK);
    opts.port = 0;
    opts.threads = 1;
    /* A caller built against the first layout (up to on_handler_thread): its sizeof,
     * padding included, is less than today's; the library neither writes nor reads
     * stream_body there, so its padding cannot turn streaming on. */
    size_t align = _Alignof(roost_route_options);
    size_t first_size = (offsetof(roost_route_options, stream_body) + align - 1) / align * align;
    CHECK(first_size < sizeof(roost_route_options));
    roost_route_options older;
    memset(&older, 0xAB, sizeof older);
    CHECK(roost_route_options_init(&older, first_size) == ROOST_OK);
    CHECK(older.on_handler_thread == true);
    CHECK(((unsigned char *)&older)[offsetof(roost_route_options, stream_body)] == 0xAB);
    roost_route_options route;
    CHECK(roost_route_options_init(&route, sizeof route) == ROOST_OK);
    CHECK(route.stream_body == false && route.stream_buffer_bytes == 0);
    route.stream_body = true;
    route.stream_buffer_bytes = 1; /* the smallest bound: one byte ahead of the reader */
    route.max_body_bytes = 300000;
    roost_server *srv = NULL;
    CHECK(roost_server_new(&opts, &srv) == ROOST_OK);
    CHECK(roost_server_route_with(srv, S("POST"), S("/count"), count, NULL, &route) == ROOST_OK);
    CHECK(roost_server_route_with(srv, S("POST"), S("/refuse"), refuse, NULL, &route) == ROOST_OK);
    CHECK(roost_server_route_with(srv, S("POST"), S("/host"), NULL, NULL, &route) == ROOST_OK);
    CHECK(roost_server_route(srv, S("POST"), S("/memory"), count, NULL) == ROOST_OK);
    /* The first layout's route: its padding (0xAB where stream_body now is) is not read. */
    CHECK(roost_server_route_with(srv, S("POST"), S("/older"), count, NULL, &older) == ROOST_OK);
    CHECK(roost_server_start(srv) == ROOST_OK);
    uint16_t port = roost_server_port(srv);
    pthread_t host;
    CHECK(pthread_create(&host, NULL, host_thread, srv) == 0);

    char reply[4096], expected[64];
    /* Whole, declared; then the same read in pieces from a body in memory. */
    post(port, "/count", 250000, "", reply, sizeof reply);
    snprintf(expected, sizeof expected, "\r\n\r\n250000 %llu s", letter_sum(250000));
    CHECK(strncmp(reply, "HTTP/1.1 200 OK\r\n", 17) == 0);
    CHECK(strstr(reply, expected) != NULL);
    post(port, "/memory", 20000, "", reply, sizeof reply);
    snprintf(expected, sizeof expected, "\r\n\r\n20000 %llu m", letter_sum(20000));
    CHECK(strstr(reply, expected) != NULL);
    post(port, "/older", 30, "", reply, sizeof reply);
    snprintf(expected, sizeof expected, "\r\n\r\n30 %llu m", letter_sum(30));
    CHECK(strstr(reply, expected) != NULL);
    /* A host thread reads it the same way. */
    post(port, "/host", 100000, "", reply, sizeof reply);
    snprintf(expected, sizeof expected, "\r\n\r\n100000 %llu s", letter_sum(100000));
    CHECK(strstr(reply, expected) != NULL);

    /* Chunked. */
    exchange_text(port,
                  "POST /count HTTP/1.1\r\nHost: t\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
                  reply, sizeof reply);
    snprintf(expected, sizeof expected, "\r\n\r\n5 %llu s", letter_sum(5));
    CHECK(strstr(reply, expected) != NULL);

    /* 100 Continue once the handler reads; none for a handler that does not. */
    post(port, "/count", 10, "Expect: 100-continue\r\n", reply, sizeof reply);
    CHECK(strncmp(reply, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n", 42) == 0);
    exchange_text(port,
                  "POST /refuse HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n",
                  reply, sizeof reply);
    CHECK(strncmp(reply, "HTTP/1.1 401 ", 13) == 0);
    CHECK(strstr(reply, "Connection: close\r\n") != NULL);

    /* Past the route's limit: declared, 413 from the head; chunked, a failed read. */
    exchange_text(port,
                  "POST /count HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 300001\r\n\r\n",
                  reply, sizeof reply);
    CHECK(strncmp(reply, "HTTP/1.1 413 ", 13) == 0);
    int done = atomic_load(&reads_done);
    {
        size_t cap = 500000;
        char *request = malloc(cap);
        int at = sprintf(request, "POST /count HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
        for (int i = 0; i < 40; i++) {
            at += sprintf(request + at, "2710\r\n"); /* 10000 bytes */
            memset(request + at, 'x', 10000);
            at += 10000;
            at += sprintf(request + at, "\r\n");
        }
        at += sprintf(request + at, "0\r\n\r\n");
        exchange_text(port, request, reply, sizeof reply);
        free(request);
    }
    CHECK(strncmp(reply, "HTTP/1.1 413 ", 13) == 0);
    CHECK(atomic_load(&reads_done) == done + 1);
    CHECK(atomic_load(&last_read_result) == ROOST_ERR_INVALID);

    /* A client that leaves mid-body. */
    done = atomic_load(&reads_done);
    int fd = connect_loopback(port);
    CHECK(fd >= 0);
    send_all(fd, "POST /count HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\npartial");
    close(fd);
    double deadline = now_s() + 20;
    while (atomic_load(&reads_done) == done && now_s() < deadline) {
        struct timespec pause = {0, 1000000};
        nanosleep(&pause, NULL);
    }
    CHECK(atomic_load(&last_read_result) == ROOST_ERR_CLOSED);

    /* NULL arguments. */
    size_t n = 1;
    char byte;
    CHECK(roost_request_read(NULL, &byte, 1, &n) == ROOST_ERR_NULL);
    CHECK(roost_request_read(NULL, &byte, 1, NULL) == ROOST_ERR_NULL);
    CHECK(roost_request_read(NULL, NULL, 1, &n) == ROOST_ERR_NULL);

    CHECK(roost_server_stop(srv) == ROOST_OK);
    pthread_join(host, NULL);
    CHECK(roost_server_free(srv) == ROOST_OK);
    return finish_checks("test_upload");
}
