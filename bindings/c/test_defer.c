/*
 * test_defer: responses finished later, from other threads (ROOST_HANDLER_DEFERRED,
 * roost_response_finish, roost_response_on_close). Checks over real sockets that a
 * deferred response does not hold up its I/O thread, that requests pipelined behind it
 * are answered after it and in order, that a finish may come before the handler returns,
 * that a second finish is an error, that a client leaving runs on_close once and makes
 * the handle's calls return ROOST_ERR_CLOSED, and that a stop with responses still
 * deferred closes them at the shutdown timeout while their handles stay safe to use,
 * after the free too. Run by `cargo test` (tests/c_samples.rs), under valgrind when it
 * is installed. Exits 0 when every check passes.
 */
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "check.h"

#define S(literal) literal, (sizeof literal - 1)

static void pause_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* Reads until `count` responses ending in `marker` arrived, the server closed, or 10 s
 * passed; returns the bytes read (NUL-terminated in `out`). */
static size_t read_until(int fd, char *out, size_t cap, const char *marker, int count) {
    size_t got = 0;
    double deadline = now_s() + 10;
    for (;;) {
        int seen = 0;
        for (const char *p = out; got && (p = strstr(p, marker)); p++) seen++;
        if (seen >= count || now_s() > deadline) break;
        struct pollfd pfd = {fd, POLLIN, 0};
        if (poll(&pfd, 1, 100) <= 0) continue;
        ssize_t n = recv(fd, out + got, cap - 1 - got, 0);
        if (n <= 0) break;
        got += (size_t)n;
        out[got] = '\0';
    }
    out[got] = '\0';
    return got;
}

/* --- a finisher thread ---------------------------------------------------------------- */

/* What a handler hands to the thread that finishes its response. */
struct later {
    roost_request *req;
    roost_response *res;
    long delay_ms;
};

static atomic_int finish_results[16];
static atomic_int finishes;

/* Waits, answers with the request's path, and finishes; records the finish's result. */
static void *finish_later(void *arg) {
    struct later *l = arg;
    pause_ms(l->delay_ms);
    roost_str path = roost_request_path(l->req);
    char body[128];
    snprintf(body, sizeof body, "late %.*s", (int)path.len, path.ptr);
    CHECK(roost_response_set_status(l->res, 202) == ROOST_OK);
    CHECK(roost_response_set_body(l->res, body, strlen(body)) == ROOST_OK);
    int result = roost_response_finish(l->res);
    int i = atomic_fetch_add(&finishes, 1);
    if (i < 16) atomic_store(&finish_results[i], result);
    free(l);
    return NULL;
}

/* GET /wait/{ms}: answered by another thread after {ms} milliseconds. */
static int32_t wait_handler(roost_request *req, roost_response *res, void *userdata) {
    (void)userdata;
    roost_str ms;
    CHECK(roost_request_param(req, S("ms"), &ms) == ROOST_OK);
    struct later *l = malloc(sizeof *l);
    l->req = req;
    l->res = res;
    char digits[16] = {0};
    memcpy(digits, ms.ptr, ms.len < sizeof digits - 1 ? ms.len : sizeof digits - 1);
    l->delay_ms = strtol(digits, NULL, 10);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, finish_later, l) == 0);
    pthread_detach(t);
    return ROOST_HANDLER_DEFERRED;
}

/* GET /quick: answered at once. */
static int32_t quick_handler(roost_request *req, roost_response *res, void *userdata) {
    (void)req;
    (void)userdata;
    CHECK(roost_response_set_body(res, S("quick")) == ROOST_OK);
    return ROOST_HANDLER_DONE;
}

/* GET /early: finished before the handler even returns; a second finish is refused. */
static int32_t early_handler(roost_request *req, roost_response *res, void *userdata) {
    (void)req;
    (void)userdata;
    CHECK(roost_response_set_body(res, S("early")) == ROOST_OK);
    CHECK(roost_response_finish(res) == ROOST_OK);
    CHECK(roost_response_finish(res) == ROOST_ERR_STATE);
    return ROOST_HANDLER_DEFERRED;
}

/* --- long polls whose clients leave ------------------------------------------------- */

#define POLLS 8
static roost_response *parked[POLLS];
static roost_request *parked_req[POLLS];
static atomic_int parked_count;
static atomic_int closes[POLLS];

static void on_close(roost_response *res, void *userdata) {
    int i = (int)(intptr_t)userdata;
    CHECK(res == parked[i]);
    atomic_fetch_add(&closes[i], 1);
}

/* GET /park: kept until the test finishes it, with an on_close callback. */
static int32_t park_handler(roost_request *req, roost_response *res, void *userdata) {
    (void)userdata;
    int i = atomic_fetch_add(&parked_count, 1);
    CHECK(i < POLLS);
    parked[i] = res;
    parked_req[i] = req;
    CHECK(roost_response_on_close(res, on_close, (void *)(intptr_t)i) == ROOST_OK);
    return ROOST_HANDLER_DEFERRED;
}

static void wait_for(atomic_int *value, int at_least) {
    double deadline = now_s() + 10;
    while (atomic_load(value) < at_least && now_s() < deadline) pause_ms(2);
}

/* GET /keep: keeps its handle, though it does not defer (for check_not_deferred). */
static roost_response *kept;
static int32_t keep_handle(roost_request *req, roost_response *res, void *userdata) {
    (void)req;
    (void)userdata;
    kept = res;
    return ROOST_HANDLER_DONE;
}

static roost_server *start(uint32_t threads, uint32_t handler_threads) {
    roost_options opts;
    roost_options_init(&opts, sizeof opts);
    opts.port = 0;
    opts.threads = threads;
    opts.handler_threads = handler_threads;
    opts.shutdown_timeout_ms = 300;
    roost_server *srv = NULL;
    CHECK(roost_server_new(&opts, &srv) == ROOST_OK);
    CHECK(roost_server_route(srv, S("GET"), S("/wait/{ms}"), wait_handler, NULL) == ROOST_OK);
    CHECK(roost_server_route(srv, S("GET"), S("/quick"), quick_handler, NULL) == ROOST_OK);
    CHECK(roost_server_route(srv, S("GET"), S("/early"), early_handler, NULL) == ROOST_OK);
    CHECK(roost_server_route(srv, S("GET"), S("/park"), park_handler, NULL) == ROOST_OK);
    CHECK(roost_server_route(srv, S("GET"), S("/keep"), keep_handle, NULL) == ROOST_OK);
    CHECK(roost_server_start(srv) == ROOST_OK);
    return srv;
}

static char buf[65536];

/* One I/O thread: a response deferred for a second does not delay another client, and the
 * requests pipelined behind it are answered after it, in order. */
static void check_deferred_does_not_block(uint32_t handler_threads) {
    atomic_store(&finishes, 0);
    roost_server *srv = start(1, handler_threads);
    uint16_t port = roost_server_port(srv);
    int slow = connect_loopback(port);
    CHECK(slow >= 0);
    double began = now_s();
    send_all(slow, "GET /wait/1000 HTTP/1.1\r\nHost: t\r\n\r\n"
                   "GET /quick HTTP/1.1\r\nHost: t\r\n\r\n"
                   "GET /early HTTP/1.1\r\nHost: t\r\n\r\n");
    /* Meanwhile another client, on the same (only) I/O thread, is answered at once. */
    pause_ms(20);
    int other = connect_loopback(port);
    CHECK(other >= 0);
    send_all(other, "GET /quick HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    read_until(other, buf, sizeof buf, "quick", 1);
    CHECK(strstr(buf, "HTTP/1.1 200 OK\r\n") == buf);
    close(other);
    /* ... while the deferred one has sent nothing yet. */
    struct pollfd pfd = {slow, POLLIN, 0};
    CHECK(poll(&pfd, 1, 0) == 0);
    CHECK(now_s() - began < 1.0);
    /* The pipelined three arrive in order, the first after its delay. */
    read_until(slow, buf, sizeof buf, "HTTP/1.1 ", 3);
    double took = now_s() - began;
    CHECK(took >= 0.99);
    const char *late = strstr(buf, "HTTP/1.1 202 Accepted\r\n");
    const char *late_body = strstr(buf, "late /wait/1000");
    const char *quick = strstr(buf, "quick");
    const char *early = strstr(buf, "early");
    CHECK(late == buf);
    CHECK(late_body && quick && early && late_body < quick && quick < early);
    close(slow);
    wait_for(&finishes, 1);
    CHECK(atomic_load(&finish_results[0]) == ROOST_OK);
    CHECK(roost_server_stop(srv) == ROOST_OK);
    CHECK(roost_server_free(srv) == ROOST_OK);
}

/* Clients that leave: on_close runs once for each, the handles answer ROOST_ERR_CLOSED,
 * and the finish releases them. Then a stop with polls still parked closes them at the
 * shutdown timeout; their handles stay safe to finish, after the free too. */
static void check_clients_leaving_and_stop(void) {
    atomic_store(&parked_count, 0);
    for (int i = 0; i < POLLS; i++) atomic_store(&closes[i], 0);
    roost_server *srv = start(2, 0);
    uint16_t port = roost_server_port(srv);
    int fds[POLLS];
    for (int i = 0; i < 4; i++) {
        fds[i] = connect_loopback(port);
        CHECK(fds[i] >= 0);
        send_all(fds[i], "GET /park HTTP/1.1\r\nHost: t\r\n\r\n");
        wait_for(&parked_count, i + 1);
    }
    CHECK(atomic_load(&parked_count) == 4);
    /* Two leave; on_close runs for them only, once. */
    close(fds[0]);
    close(fds[1]);
    wait_for(&closes[0], 1);
    wait_for(&closes[1], 1);
    pause_ms(50);
    CHECK(atomic_load(&closes[0]) == 1);
    CHECK(atomic_load(&closes[1]) == 1);
    CHECK(atomic_load(&closes[2]) == 0);
    CHECK(roost_response_set_status(parked[0], 204) == ROOST_ERR_CLOSED);
    CHECK(roost_request_path(parked_req[0]).ptr == NULL);
    roost_str value;
    CHECK(roost_request_header(parked_req[0], S("Host"), &value) == ROOST_ERR_CLOSED);
    /* One still waiting reads its request as during the call. */
    roost_str path = roost_request_path(parked_req[2]);
    CHECK(path.len == 5 && memcmp(path.ptr, "/park", 5) == 0);
    CHECK(roost_response_on_close(parked[0], on_close, NULL) == ROOST_ERR_CLOSED);
    CHECK(roost_response_finish(parked[0]) == ROOST_ERR_CLOSED);
    CHECK(roost_response_finish(parked[0]) == ROOST_ERR_STATE);
    CHECK(roost_response_finish(parked[1]) == ROOST_ERR_CLOSED);
    /* One still there is answered. */
    CHECK(roost_response_set_body(parked[2], S("at last")) == ROOST_OK);
    CHECK(roost_response_finish(parked[2]) == ROOST_OK);
    read_until(fds[2], buf, sizeof buf, "at last", 1);
    CHECK(strstr(buf, "HTTP/1.1 200 OK\r\n") == buf);
    CHECK(atomic_load(&closes[2]) == 0);
    close(fds[2]);
    /* A stop with the last one parked: it waits for the shutdown timeout, then closes it. */
    double began = now_s();
    CHECK(roost_server_stop(srv) == ROOST_OK);
    double took = now_s() - began;
    CHECK(took >= 0.25 && took < 5);
    CHECK(atomic_load(&closes[3]) == 1);
    CHECK(recv(fds[3], buf, sizeof buf, 0) <= 0);
    close(fds[3]);
    CHECK(roost_server_free(srv) == ROOST_OK);
    CHECK(roost_response_set_body(parked[3], S("too late")) == ROOST_ERR_CLOSED);
    CHECK(roost_response_finish(parked[3]) == ROOST_ERR_CLOSED);
    CHECK(roost_response_finish(parked[3]) == ROOST_ERR_STATE);
    CHECK(roost_request_header(parked_req[3], S("Host"), &value) == ROOST_ERR_STATE);
    CHECK(roost_response_finish(NULL) == ROOST_ERR_NULL);
    CHECK(roost_response_on_close(NULL, on_close, NULL) == ROOST_ERR_NULL);
}

/* A handler that did not defer cannot be finished, and its handle is over. */
static void check_not_deferred(void) {
    roost_server *srv = start(1, 0);
    uint16_t port = roost_server_port(srv);
    int fd = connect_loopback(port);
    send_all(fd, "GET /keep HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    read_until(fd, buf, sizeof buf, "\r\n\r\n", 1);
    CHECK(strstr(buf, "HTTP/1.1 200 OK\r\n") == buf);
    close(fd);
    CHECK(kept != NULL);
    CHECK(roost_response_finish(kept) == ROOST_ERR_STATE);
    CHECK(roost_response_set_status(kept, 201) == ROOST_ERR_STATE);
    CHECK(roost_server_stop(srv) == ROOST_OK);
    CHECK(roost_server_free(srv) == ROOST_OK);
}

int main(void) {
    check_deferred_does_not_block(0);
    /* The same from handler threads. */
    check_deferred_does_not_block(2);
    check_clients_leaving_and_stop();
    check_not_deferred();
    return finish_checks("test_defer");
}
