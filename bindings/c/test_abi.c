/*
 * test_abi: calls every function in roost.h, error paths included, and checks what a
 * client sees over HTTP. Run by `cargo test` (tests/c_samples.rs), under valgrind when
 * it is installed. Exits 0 when every check passes.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "check.h"

#define S(literal) literal, (sizeof literal - 1)

/* --- a tiny HTTP client --------------------------------------------------------------- */

/* Sends `request` to 127.0.0.1:port and reads until the server closes; returns the number
 * of bytes read into `out` (NUL-terminated), or -1 if the connection failed. */
static int http(uint16_t port, const char *request, char *out, size_t cap) {
    int fd = connect_loopback(port);
    if (fd < 0) return -1;
    size_t len = strlen(request), sent = 0;
    while (sent < len) {
        ssize_t n = send(fd, request + sent, len - sent, 0);
        if (n <= 0) break;
        sent += (size_t)n;
    }
    size_t got = 0;
    for (;;) {
        ssize_t n = recv(fd, out + got, cap - 1 - got, 0);
        if (n <= 0) break;
        got += (size_t)n;
        if (got == cap - 1) break;
    }
    out[got] = '\0';
    close(fd);
    return (int)got;
}

static char reply[65536];

static const char *get(uint16_t port, const char *method, const char *target,
                       const char *extra) {
    char request[1024];
    snprintf(request, sizeof request, "%s %s HTTP/1.1\r\nHost: test\r\n%sConnection: close\r\n\r\n",
             method, target, extra);
    if (http(port, request, reply, sizeof reply) < 0) return NULL;
    return reply;
}

/* --- handlers ------------------------------------------------------------------------- */

struct probe_data {
    roost_server *srv;
    const char *file_path;
    const char *dir_path;
};

/* Reads everything a request offers, tries every response call (bad arguments first),
 * and answers 201 with what it read. */
static int32_t probe(roost_request *req, roost_response *res, void *userdata) {
    struct probe_data *data = userdata;
    char body[4096];
    size_t len = 0;
#define APPEND(...) len += (size_t)snprintf(body + len, sizeof body - len, __VA_ARGS__)
#define VIEW(s) (int)(s).len, (s).ptr

    roost_str s, name, value;
    APPEND("method=%.*s\n", VIEW(roost_request_method(req)));
    APPEND("path=%.*s\n", VIEW(roost_request_path(req)));
    APPEND("target=%.*s\n", VIEW(roost_request_target(req)));
    APPEND("query=%.*s\n", VIEW(roost_request_query(req)));
    CHECK(roost_request_query_param(req, S("q"), &s) == ROOST_OK);
    APPEND("q=%.*s\n", VIEW(s));
    CHECK(roost_request_query_param(req, S("flag"), &s) == ROOST_OK && s.len == 0);
    CHECK(roost_request_query_param(req, S("missing"), &s) == ROOST_ERR_NOT_FOUND);
    CHECK(roost_request_header(req, S("x-test"), &s) == ROOST_OK);
    APPEND("x-test=%.*s\n", VIEW(s));
    CHECK(roost_request_header(req, S("X-Absent"), &s) == ROOST_ERR_NOT_FOUND);
    size_t count = roost_request_header_count(req);
    for (size_t i = 0; i < count; i++) {
        CHECK(roost_request_header_at(req, i, &name, &value) == ROOST_OK);
        APPEND("header %zu: %.*s: %.*s\n", i, VIEW(name), VIEW(value));
    }
    CHECK(roost_request_header_at(req, count, &name, &value) == ROOST_ERR_NOT_FOUND);
    CHECK(roost_request_header_at(req, 0, NULL, NULL) == ROOST_OK);
    CHECK(roost_request_param(req, S("name"), &s) == ROOST_OK);
    APPEND("name=%.*s\n", VIEW(s));
    CHECK(roost_request_param(req, S("nope"), &s) == ROOST_ERR_NOT_FOUND);
    size_t params = roost_request_param_count(req);
    for (size_t i = 0; i < params; i++) {
        CHECK(roost_request_param_at(req, i, &name, &value) == ROOST_OK);
        APPEND("param %zu: %.*s=%.*s\n", i, VIEW(name), VIEW(value));
    }
    CHECK(roost_request_param_at(req, params, &name, &value) == ROOST_ERR_NOT_FOUND);
    size_t pairs = roost_request_query_count(req);
    for (size_t i = 0; i < pairs; i++) {
        CHECK(roost_request_query_at(req, i, &name, &value) == ROOST_OK);
        APPEND("pair %zu: %.*s=%.*s\n", i, VIEW(name), VIEW(value));
    }
    CHECK(roost_request_query_at(req, pairs, &name, &value) == ROOST_ERR_NOT_FOUND);
    CHECK(roost_request_query_at(req, 0, NULL, NULL) == ROOST_OK);
    APPEND("authority=%.*s\n", VIEW(roost_request_authority(req)));
    APPEND("body=%.*s\n", VIEW(roost_request_body(req)));
    uint16_t port = 0;
    CHECK(roost_request_peer(req, &s, &port) == ROOST_OK && port != 0);
    APPEND("peer=%.*s\n", VIEW(s));

    /* NULL and invalid arguments: error codes, never crashes. */
    CHECK(roost_request_method(NULL).ptr == NULL);
    CHECK(roost_request_path(NULL).ptr == NULL);
    CHECK(roost_request_target(NULL).ptr == NULL);
    CHECK(roost_request_query(NULL).ptr == NULL);
    CHECK(roost_request_body(NULL).ptr == NULL);
    CHECK(roost_request_header_count(NULL) == 0);
    CHECK(roost_request_authority(NULL).ptr == NULL);
    CHECK(roost_request_param_count(NULL) == 0);
    CHECK(roost_request_param_at(NULL, 0, &name, &value) == ROOST_ERR_NULL);
    CHECK(roost_request_query_count(NULL) == 0);
    CHECK(roost_request_query_at(NULL, 0, &name, &value) == ROOST_ERR_NULL);
    CHECK(roost_request_query_param(NULL, S("q"), &s) == ROOST_ERR_NULL);
    CHECK(roost_request_query_param(req, NULL, 1, &s) == ROOST_ERR_NULL);
    CHECK(roost_request_header(req, NULL, 3, &s) == ROOST_ERR_NULL);
    CHECK(roost_request_header_at(NULL, 0, &name, &value) == ROOST_ERR_NULL);
    CHECK(roost_request_param(NULL, S("name"), &s) == ROOST_ERR_NULL);
    CHECK(roost_request_peer(NULL, &s, &port) == ROOST_ERR_NULL);
    CHECK(roost_response_set_status(NULL, 200) == ROOST_ERR_NULL);
    CHECK(roost_response_set_status(res, 99) == ROOST_ERR_INVALID);
    CHECK(roost_response_set_status(res, 600) == ROOST_ERR_INVALID);
    CHECK(roost_response_add_header(NULL, S("X-A"), S("b")) == ROOST_ERR_NULL);
    CHECK(roost_response_add_header(res, NULL, 3, S("b")) == ROOST_ERR_NULL);
    CHECK(roost_response_add_header(res, S("Bad Name"), S("v")) == ROOST_ERR_INVALID);
    CHECK(roost_response_add_header(res, S("X-Split"), S("a\r\nInjected: 1")) == ROOST_ERR_INVALID);
    CHECK(roost_response_add_header(res, S("X-Nul"), "a\0b", 3) == ROOST_ERR_INVALID);
    CHECK(roost_response_add_header(res, S("Content-Length"), S("1x")) == ROOST_ERR_INVALID);
    CHECK(roost_response_add_header(res, S("Transfer-Encoding"), S("chunked")) == ROOST_ERR_INVALID);
    CHECK(roost_response_add_header(res, S("Connection"), S("close")) == ROOST_ERR_INVALID);
    CHECK(roost_response_set_body(NULL, S("x")) == ROOST_ERR_NULL);
    CHECK(roost_response_set_body(res, NULL, 5) == ROOST_ERR_NULL);
    CHECK(roost_response_set_file(NULL, S("/x")) == ROOST_ERR_NULL);
    CHECK(roost_response_set_file(res, S("/definitely/not/here")) == ROOST_ERR_NOT_FOUND);
    CHECK(roost_response_set_file(res, data->dir_path, strlen(data->dir_path)) == ROOST_ERR_INVALID);
    const char *dir = data->dir_path;
    size_t dir_len = strlen(dir);
    CHECK(roost_response_set_file_at(NULL, dir, dir_len, S("hello.txt")) == ROOST_ERR_NULL);
    CHECK(roost_response_set_file_at(res, NULL, 3, S("hello.txt")) == ROOST_ERR_NULL);
    CHECK(roost_response_set_file_at(res, dir, dir_len, NULL, 3) == ROOST_ERR_NULL);
    CHECK(roost_response_set_file_at(res, dir, dir_len, S("../etc/passwd")) == ROOST_ERR_NOT_FOUND);
    CHECK(roost_response_set_file_at(res, dir, dir_len, S(".hidden")) == ROOST_ERR_NOT_FOUND);
    CHECK(roost_response_set_file_at(res, dir, dir_len, S("missing.txt")) == ROOST_ERR_NOT_FOUND);
    CHECK(roost_response_set_file_at(res, dir, dir_len, S("")) == ROOST_ERR_NOT_FOUND);
    CHECK(roost_response_set_file_at(res, S("/definitely/not/here"), S("x")) == ROOST_ERR_NOT_FOUND);
    CHECK(roost_server_stop(data->srv) == ROOST_ERR_STATE); /* its own handler */
    CHECK(roost_server_free(data->srv) == ROOST_ERR_STATE); /* not freed, still serving */
    CHECK(roost_server_start(data->srv) == ROOST_ERR_STATE);

    CHECK(roost_response_set_status(res, 201) == ROOST_OK);
    CHECK(roost_response_add_header(res, S("X-Probe"), S("yes\tand tab")) == ROOST_OK);
    CHECK(roost_response_set_body(res, body, len) == ROOST_OK);
    return ROOST_HANDLER_DONE;
#undef APPEND
#undef VIEW
}

static int32_t failing(roost_request *req, roost_response *res, void *userdata) {
    (void)req;
    (void)userdata;
    roost_response_set_body(res, S("never sent"));
    return ROOST_HANDLER_FAILED;
}

static int32_t reserved(roost_request *req, roost_response *res, void *userdata) {
    (void)req;
    (void)res;
    (void)userdata;
    return 42;
}

static int32_t silent(roost_request *req, roost_response *res, void *userdata) {
    (void)res;
    (void)userdata;
    /* Empty values point somewhere valid; absent ones are NULL. */
    roost_str body = roost_request_body(req);
    CHECK(body.ptr != NULL && body.len == 0);
    roost_str query = roost_request_query(req);
    CHECK(query.ptr == NULL && query.len == 0);
    return ROOST_HANDLER_DONE;
}

/* Sleeps, then asks its server for the port: still running in a stop under way. */
static int32_t slow(roost_request *req, roost_response *res, void *userdata) {
    (void)req;
    (void)res;
    struct timespec pause = {0, 300 * 1000 * 1000};
    nanosleep(&pause, NULL);
    (void)roost_server_port(userdata);
    return ROOST_HANDLER_DONE;
}

static void *request_slow(void *port) {
    char buf[1024];
    char request[] = "GET /slow HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    http(*(uint16_t *)port, request, buf, sizeof buf);
    return NULL;
}

static void *stop_in_thread(void *srv) {
    CHECK(roost_server_stop(srv) == ROOST_OK);
    return NULL;
}

/* Two threads stop at once while a handler runs, then the server is freed: the second stop
 * must wait for the first, or the free would pull the server from under the handler. */
static void check_concurrent_stops(void) {
    roost_options opts;
    roost_options_init(&opts, sizeof opts);
    opts.port = 0;
    opts.threads = 1;
    roost_server *srv;
    CHECK(roost_server_new(&opts, &srv) == ROOST_OK);
    CHECK(roost_server_route(srv, S("GET"), S("/slow"), slow, srv) == ROOST_OK);
    CHECK(roost_server_start(srv) == ROOST_OK);
    uint16_t port = roost_server_port(srv);
    pthread_t client, stopper;
    pthread_create(&client, NULL, request_slow, &port);
    struct timespec pause = {0, 100 * 1000 * 1000};
    nanosleep(&pause, NULL); /* the handler is now sleeping */
    pthread_create(&stopper, NULL, stop_in_thread, srv);
    nanosleep(&pause, NULL);
    CHECK(roost_server_stop(srv) == ROOST_OK);
    CHECK(roost_server_free(srv) == ROOST_OK);
    pthread_join(stopper, NULL);
    pthread_join(client, NULL);
}

/* Sends the file the path names below the test directory: confined to it. */
static int32_t file_below(roost_request *req, roost_response *res, void *userdata) {
    struct probe_data *data = userdata;
    roost_str rest;
    CHECK(roost_request_param(req, S("*"), &rest) == ROOST_OK);
    roost_result sent =
        roost_response_set_file_at(res, data->dir_path, strlen(data->dir_path), rest.ptr, rest.len);
    if (sent == ROOST_ERR_NOT_FOUND) {
        roost_response_set_status(res, 404);
        return ROOST_HANDLER_DONE;
    }
    /* Added twice, sent once: the second value replaces the first. */
    roost_response_add_header(res, S("Content-Type"), S("text/x-first"));
    roost_response_add_header(res, S("Content-Type"), S("text/x-second"));
    return sent == ROOST_OK ? ROOST_HANDLER_DONE : ROOST_HANDLER_FAILED;
}

static int32_t file(roost_request *req, roost_response *res, void *userdata) {
    (void)req;
    struct probe_data *data = userdata;
    if (roost_response_set_file(res, data->file_path, strlen(data->file_path)) != ROOST_OK) {
        return ROOST_HANDLER_FAILED;
    }
    return ROOST_HANDLER_DONE;
}

/* --- the checks ----------------------------------------------------------------------- */

static void check_plain_functions(void) {
    CHECK(strlen(roost_version()) > 0);
    CHECK(strcmp(roost_result_str(ROOST_OK), "ok") == 0);
    for (int code = ROOST_ERR_NULL; code <= ROOST_ERR_PANIC; code++) {
        CHECK(strcmp(roost_result_str(code), "unknown result") != 0);
    }
    CHECK(strcmp(roost_result_str(-1), "unknown result") == 0);
    CHECK(strcmp(roost_result_str(1000), "unknown result") == 0);

    roost_options opts;
    CHECK(roost_options_init(NULL, sizeof opts) == ROOST_ERR_NULL);
    CHECK(strstr(roost_last_error(), "NULL") != NULL);
    CHECK(roost_options_init(&opts, sizeof opts - 1) == ROOST_ERR_INVALID);
    CHECK(roost_options_init(&opts, sizeof opts + 8) == ROOST_ERR_INVALID);
    /* A caller built against the first, smaller layout (up to shutdown_timeout_ms): its
     * sizeof, padding included. The library must not touch that padding, where
     * handler_threads now sits. */
    size_t align = _Alignof(roost_options);
    size_t first_size = (offsetof(roost_options, handler_threads) + align - 1) / align * align;
    roost_options older;
    memset(&older, 0xAB, sizeof older);
    CHECK(roost_options_init(&older, first_size) == ROOST_OK);
    CHECK(older.size == first_size && older.port == 8080);
    CHECK(older.handler_threads == 0xABABABABu); /* not written past its size */
    older.port = 0;
    roost_server *old_layout = NULL;
    CHECK(roost_server_new(&older, &old_layout) == ROOST_OK);
    CHECK(roost_server_free(old_layout) == ROOST_OK);
    CHECK(roost_options_init(&opts, sizeof opts) == ROOST_OK);
    /* Every default, as documented in roost.h. */
    CHECK(opts.size == sizeof opts && opts.port == 8080 && opts.threads == 0);
    CHECK(opts.host_len == 9 && memcmp(opts.host, "127.0.0.1", 9) == 0);
    CHECK(opts.max_connections == 0 && opts.max_head_bytes == 16384);
    CHECK(opts.max_uri_bytes == 8192 && opts.max_headers == 100);
    CHECK(opts.max_body_bytes == 16u * 1024 * 1024);
    CHECK(opts.header_timeout_ms == 10000 && opts.keepalive_timeout_ms == 5000);
    CHECK(opts.body_timeout_ms == 10000 && opts.write_timeout_ms == 10000);
    CHECK(opts.shutdown_timeout_ms == 10000);
    CHECK(opts.handler_threads == 0 && opts.handler_queue == 1024);
    CHECK(opts.max_buffered_body_bytes == 256u * 1024 * 1024);
    /* The second layout ended at handler_queue: a caller built against it gets the
     * default budget. */
    size_t second_size =
        (offsetof(roost_options, max_buffered_body_bytes) + align - 1) / align * align;
    roost_options second;
    memset(&second, 0xAB, sizeof second);
    CHECK(roost_options_init(&second, second_size) == ROOST_OK);
    CHECK(second.handler_queue == 1024 && second.max_buffered_body_bytes == 0xABABABABABABABABu);
    second.port = 0;
    roost_server *second_layout = NULL;
    CHECK(roost_server_new(&second, &second_layout) == ROOST_OK);
    CHECK(roost_server_free(second_layout) == ROOST_OK);
    roost_options_init(&opts, sizeof opts);

    roost_server *srv = NULL;
    CHECK(roost_server_new(&opts, NULL) == ROOST_ERR_NULL);
    opts.host = "not an address";
    opts.host_len = strlen(opts.host);
    CHECK(roost_server_new(&opts, &srv) == ROOST_ERR_INVALID && srv == NULL);
    CHECK(strstr(roost_last_error(), "not an IP address") != NULL);
    roost_options_init(&opts, sizeof opts);
    opts.header_timeout_ms = 0;
    CHECK(roost_server_new(&opts, &srv) == ROOST_ERR_INVALID && srv == NULL);
    roost_options_init(&opts, sizeof opts);
    opts.threads = 100000;
    CHECK(roost_server_new(&opts, &srv) == ROOST_ERR_INVALID && srv == NULL);
    roost_options_init(&opts, sizeof opts);
    opts.handler_threads = 1025;
    CHECK(roost_server_new(&opts, &srv) == ROOST_ERR_INVALID && srv == NULL);
    roost_options_init(&opts, sizeof opts);
    opts.max_headers = 513;
    CHECK(roost_server_new(&opts, &srv) == ROOST_ERR_INVALID && srv == NULL);
    roost_options_init(&opts, sizeof opts);
    opts.max_buffered_body_bytes = 0;
    CHECK(roost_server_new(&opts, &srv) == ROOST_ERR_INVALID && srv == NULL);
    roost_options_init(&opts, sizeof opts);
    opts.host = "localhost";
    opts.host_len = 9;
    CHECK(roost_server_new(&opts, &srv) == ROOST_OK);
    CHECK(roost_server_free(srv) == ROOST_OK);
    srv = NULL;
    CHECK(roost_server_new(NULL, &srv) == ROOST_OK && srv != NULL); /* all defaults */
    CHECK(roost_server_port(srv) == 0);                              /* not started */
    CHECK(roost_server_stop(srv) == ROOST_OK);                       /* not running */
    CHECK(roost_server_free(srv) == ROOST_OK);
    CHECK(roost_server_free(NULL) == ROOST_OK);
    CHECK(roost_server_port(NULL) == 0);
    CHECK(roost_server_start(NULL) == ROOST_ERR_NULL);
    CHECK(roost_server_stop(NULL) == ROOST_ERR_NULL);
}

static void check_registration(roost_server *srv, struct probe_data *data) {
    CHECK(roost_server_route(NULL, S("GET"), S("/x"), silent, NULL) == ROOST_ERR_NULL);
    CHECK(roost_server_route(srv, NULL, 3, S("/x"), silent, NULL) == ROOST_ERR_NULL);
    CHECK(roost_server_route(srv, S("GET"), NULL, 2, silent, NULL) == ROOST_ERR_NULL);
    CHECK(roost_server_route(srv, S("get"), S("/x"), silent, NULL) == ROOST_ERR_INVALID);
    CHECK(roost_server_route(srv, S(""), S("/x"), silent, NULL) == ROOST_ERR_INVALID);
    CHECK(roost_server_route(srv, S("GE T"), S("/x"), silent, NULL) == ROOST_ERR_INVALID);
    CHECK(roost_server_route(srv, S("GET"), S("no-slash"), silent, NULL) == ROOST_ERR_INVALID);
    CHECK(roost_server_route(srv, S("GET"), S("/a/*/b"), silent, NULL) == ROOST_ERR_INVALID);
    CHECK(strstr(roost_last_error(), "pattern") != NULL);

    CHECK(roost_server_route(srv, S("POST"), S("/probe/{name}"), probe, data) == ROOST_OK);
    CHECK(roost_server_route(srv, S("GET"), S("/failing"), failing, NULL) == ROOST_OK);
    CHECK(roost_server_route(srv, S("GET"), S("/reserved"), reserved, NULL) == ROOST_OK);
    CHECK(roost_server_route(srv, S("GET"), S("/silent"), silent, NULL) == ROOST_OK);
    CHECK(roost_server_route(srv, S("GET"), S("/file"), file, data) == ROOST_OK);
    CHECK(roost_server_route(srv, S("GET"), S("/below/*"), file_below, data) == ROOST_OK);

    CHECK(roost_server_static(NULL, S("/static"), S("/tmp")) == ROOST_ERR_NULL);
    CHECK(roost_server_static(srv, NULL, 1, S("/tmp")) == ROOST_ERR_NULL);
    CHECK(roost_server_static(srv, S("/static"), S("/definitely/not/here")) == ROOST_ERR_IO);
    CHECK(roost_server_static(srv, S("no-slash"), data->dir_path, strlen(data->dir_path)) ==
          ROOST_ERR_INVALID);
    CHECK(roost_server_static(srv, S("/static"), data->dir_path, strlen(data->dir_path)) ==
          ROOST_OK);

    roost_mount_options mount;
    CHECK(roost_mount_options_init(NULL, sizeof mount) == ROOST_ERR_NULL);
    CHECK(roost_mount_options_init(&mount, sizeof mount + 1) == ROOST_ERR_INVALID);
    CHECK(roost_mount_options_init(&mount, sizeof mount) == ROOST_OK);
    CHECK(mount.size == sizeof mount && mount.cache_control == NULL && !mount.listing &&
          mount.revalidate_ms == 1000);
    mount.revalidate_ms = 0; /* look every file up for every request */
    CHECK(roost_server_static_with(srv, S("/fresh"), data->dir_path, strlen(data->dir_path),
                                   &mount) == ROOST_OK);
    /* A caller built against the first layout (before revalidate_ms) still works. */
    roost_mount_options first;
    size_t first_size = offsetof(roost_mount_options, revalidate_ms);
    CHECK(roost_mount_options_init(&first, first_size) == ROOST_OK);
    CHECK(first.size == first_size);
    CHECK(roost_server_static_with(srv, S("/first"), data->dir_path, strlen(data->dir_path),
                                   &first) == ROOST_OK);
    mount.cache_control = "max-age=60\r\nX-Injected: 1";
    mount.cache_control_len = strlen(mount.cache_control);
    CHECK(roost_server_static_with(srv, S("/cached"), data->dir_path, strlen(data->dir_path),
                                   &mount) == ROOST_ERR_INVALID);
    mount.cache_control = "max-age=60";
    mount.cache_control_len = 10;
    mount.listing = true;
    CHECK(roost_server_static_with(srv, S("/cached"), data->dir_path, strlen(data->dir_path),
                                   &mount) == ROOST_OK);
    CHECK(roost_server_static_with(NULL, S("/x"), S("/tmp"), NULL) == ROOST_ERR_NULL);
}

static void check_http(uint16_t port) {
    char request[512];
    snprintf(request, sizeof request,
             "POST /probe/b%%6Fb?q=a+b%%21&flag HTTP/1.1\r\nHost: test\r\nX-Test: 1\r\n"
             "Content-Length: 7\r\nConnection: close\r\n\r\npayload");
    CHECK(http(port, request, reply, sizeof reply) > 0);
    const char *r = reply;
    CHECK(strncmp(r, "HTTP/1.1 201 Created\r\n", 22) == 0);
    CHECK(strstr(r, "\r\nX-Probe: yes\tand tab\r\n") != NULL);
    CHECK(strstr(r, "method=POST\n") != NULL);
    CHECK(strstr(r, "path=/probe/bob\n") != NULL);
    CHECK(strstr(r, "target=/probe/b%6Fb?q=a+b%21&flag\n") != NULL);
    CHECK(strstr(r, "query=q=a+b%21&flag\n") != NULL);
    CHECK(strstr(r, "q=a b!\n") != NULL);
    CHECK(strstr(r, "x-test=1\n") != NULL);
    CHECK(strstr(r, "header 0: Host: test\n") != NULL);
    CHECK(strstr(r, "header 1: X-Test: 1\n") != NULL);
    CHECK(strstr(r, "name=bob\n") != NULL);
    CHECK(strstr(r, "param 0: name=bob\n") != NULL);
    CHECK(strstr(r, "pair 0: q=a b!\n") != NULL && strstr(r, "pair 1: flag=\n") != NULL);
    CHECK(strstr(r, "authority=test\n") != NULL);
    CHECK(strstr(r, "body=payload\n") != NULL);
    /* An absolute target names the authority, whatever Host says. */
    snprintf(request, sizeof request,
             "POST http://example.com:81/probe/x?q=1&flag HTTP/1.1\r\nHost: other\r\nX-Test: 1\r\n"
             "Content-Length: 0\r\nConnection: close\r\n\r\n");
    CHECK(http(port, request, reply, sizeof reply) > 0);
    CHECK(strstr(reply, "authority=example.com:81\n") != NULL);
    CHECK(strstr(r, "peer=127.0.0.1\n") != NULL);

    r = get(port, "GET", "/failing", "");
    CHECK(r && strncmp(r, "HTTP/1.1 500 ", 13) == 0 && strstr(r, "never sent") == NULL);
    r = get(port, "GET", "/reserved", "");
    CHECK(r && strncmp(r, "HTTP/1.1 500 ", 13) == 0);
    r = get(port, "GET", "/silent", "");
    CHECK(r && strncmp(r, "HTTP/1.1 200 OK\r\n", 17) == 0 &&
          strstr(r, "\r\nContent-Length: 0\r\n") != NULL);
    r = get(port, "HEAD", "/silent", "");
    CHECK(r && strncmp(r, "HTTP/1.1 200 OK\r\n", 17) == 0);
    r = get(port, "DELETE", "/silent", "");
    CHECK(r && strncmp(r, "HTTP/1.1 405 ", 13) == 0 &&
          strstr(r, "\r\nAllow: GET, HEAD, OPTIONS\r\n") != NULL);
    r = get(port, "OPTIONS", "/silent", "");
    CHECK(r && strncmp(r, "HTTP/1.1 204 ", 13) == 0);
    r = get(port, "GET", "/file", "");
    CHECK(r && strncmp(r, "HTTP/1.1 200 OK\r\n", 17) == 0 &&
          strstr(r, "\r\nContent-Type: text/plain; charset=utf-8\r\n") != NULL &&
          strstr(r, "\r\n\r\nfrom a file\n") != NULL);
    r = get(port, "GET", "/static/hello.txt", "");
    CHECK(r && strstr(r, "\r\n\r\nfrom a file\n") != NULL);
    r = get(port, "GET", "/static", "");
    CHECK(r && strncmp(r, "HTTP/1.1 301 ", 13) == 0 && strstr(r, "\r\nLocation: /static/\r\n"));
    r = get(port, "GET", "/cached/hello.txt", "");
    CHECK(r && strstr(r, "\r\nCache-Control: max-age=60\r\n") != NULL &&
          strstr(r, "\r\nETag: \"") != NULL && strstr(r, "\r\nLast-Modified: ") != NULL);
    r = get(port, "GET", "/cached/", "");
    CHECK(r && strncmp(r, "HTTP/1.1 200 OK\r\n", 17) == 0 &&
          strstr(r, "<a href=\"hello.txt\">hello.txt</a>") != NULL);
    r = get(port, "GET", "/file", "Range: bytes=5-\r\n");
    CHECK(r && strncmp(r, "HTTP/1.1 206 ", 13) == 0 &&
          strstr(r, "\r\nContent-Range: bytes 5-11/12\r\n") != NULL &&
          strstr(r, "\r\n\r\na file\n") != NULL);
    r = get(port, "GET", "/below/hello.txt", "");
    CHECK(r && strncmp(r, "HTTP/1.1 200 OK\r\n", 17) == 0 &&
          strstr(r, "\r\nContent-Type: text/x-second\r\n") != NULL &&
          strstr(r, "text/x-first") == NULL && strstr(r, "\r\n\r\nfrom a file\n") != NULL);
    r = get(port, "GET", "/below/..%2F..%2F..%2Fetc%2Fpasswd", "");
    CHECK(r && strncmp(r, "HTTP/1.1 400 ", 13) == 0 && strstr(r, "root:") == NULL);
    r = get(port, "GET", "/below/%2Fetc%2Fpasswd", "");
    CHECK(r && strncmp(r, "HTTP/1.1 400 ", 13) == 0);
    r = get(port, "GET", "/below/missing", "");
    CHECK(r && strncmp(r, "HTTP/1.1 404 ", 13) == 0);
    r = get(port, "GET", "/nothing-here", "");
    CHECK(r && strncmp(r, "HTTP/1.1 404 ", 13) == 0);
    r = get(port, "GET", "/first/hello.txt", "");
    CHECK(r && strstr(r, "\r\n\r\nfrom a file\n") != NULL);
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs(text, f);
    fclose(f);
}

/* Writes a file dated a day back: the file server holds a settled small file's content in
 * memory for its revalidation interval. */
static void write_settled(const char *path, const char *text) {
    write_file(path, text);
    struct timespec times[2] = {{.tv_sec = time(NULL) - 86400}, {.tv_sec = time(NULL) - 86400}};
    CHECK(utimensat(AT_FDCWD, path, times, 0) == 0);
}

/* With revalidate_ms 0, a file rewritten on disk is served rewritten at once, even one
 * whose content a mount with an interval would hold in memory. (Several rounds: with two
 * workers, each keeps what it found, and consecutive requests may go to either.) */
static void check_fresh(uint16_t port, const char *file_path) {
    for (int round = 0; round < 8; round++) {
        char text[16], body[24];
        snprintf(text, sizeof text, "round %d\n", round);
        snprintf(body, sizeof body, "\r\n\r\n%s", text);
        write_settled(file_path, text);
        const char *r = get(port, "GET", "/fresh/hello.txt", "");
        CHECK(r && strstr(r, body) != NULL);
    }
    write_file(file_path, "from a file\n");
}

int main(void) {
    check_plain_functions();

    char dir[] = "/tmp/roost-abi-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char file_path[64];
    snprintf(file_path, sizeof file_path, "%s/hello.txt", dir);
    write_file(file_path, "from a file\n");

    roost_options opts;
    roost_options_init(&opts, sizeof opts);
    opts.port = 0;
    opts.threads = 2;
    opts.handler_threads = 2; /* the handlers below run on the handler pool */
    roost_server *srv;
    CHECK(roost_server_new(&opts, &srv) == ROOST_OK);
    struct probe_data data = {srv, file_path, dir};
    check_registration(srv, &data);

    CHECK(roost_server_start(srv) == ROOST_OK);
    uint16_t port = roost_server_port(srv);
    CHECK(port != 0);
    CHECK(roost_server_start(srv) == ROOST_ERR_STATE); /* start twice */
    CHECK(roost_server_route(srv, S("GET"), S("/late"), silent, NULL) == ROOST_ERR_STATE);
    CHECK(roost_server_static(srv, S("/late"), S("/tmp")) == ROOST_ERR_STATE);
    check_http(port);
    check_fresh(port, file_path);

    /* A port already in use. */
    roost_options busy;
    roost_options_init(&busy, sizeof busy);
    busy.port = port;
    roost_server *second;
    CHECK(roost_server_new(&busy, &second) == ROOST_OK);
    CHECK(roost_server_start(second) == ROOST_ERR_ADDRESS);
    CHECK(strstr(roost_last_error(), "address in use") != NULL);
    CHECK(roost_server_free(second) == ROOST_OK);

    CHECK(roost_server_stop(srv) == ROOST_OK);
    CHECK(roost_server_stop(srv) == ROOST_OK); /* stop twice */
    CHECK(roost_server_port(srv) == 0);
    CHECK(get(port, "GET", "/silent", "") == NULL); /* refused */

    /* A stopped server starts again; then it is freed without a stop. */
    CHECK(roost_server_start(srv) == ROOST_OK);
    const char *r = get(roost_server_port(srv), "GET", "/silent", "");
    CHECK(r && strncmp(r, "HTTP/1.1 200 OK\r\n", 17) == 0);
    CHECK(roost_server_free(srv) == ROOST_OK);
    check_concurrent_stops();

    unlink(file_path);
    rmdir(dir);
    return finish_checks("test_abi");
}
