/*
 * test_stream: streamed responses (roost_response_stream, roost_response_write,
 * roost_response_on_writable). Checks over real sockets that a body written by another
 * thread arrives chunked and whole; that a client that does not read holds the producer
 * back (ROOST_ERR_AGAIN, then on_writable once it reads); that a declared Content-Length
 * is kept; that a body may be streamed and finished inside the handler call; that HEAD
 * gets the head only; that roost_response_abort cuts a stream short (and answers 500 for a
 * deferred response whose head had not left); that a client leaving mid-stream runs
 * on_close once and turns the writes into ROOST_ERR_CLOSED; and that the functions refuse what their state does not
 * allow. Run by `cargo test` (tests/c_samples.rs), under valgrind when it is installed.
 * Exits 0 when every check passes.
 */
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "check.h"

#define S(literal) literal, (sizeof literal - 1)

/* Waits up to 20 s (valgrind is slow) for `flag` to reach `value`. */
static int wait_for(atomic_int *flag, int value) {
    double deadline = now_s() + 20;
    while (atomic_load(flag) < value) {
        if (now_s() > deadline) return 0;
        struct timespec t = {0, 1000000L};
        nanosleep(&t, NULL);
    }
    return 1;
}

/* Reads everything until the server closes or 20 s pass; returns the length (the buffer
 * is NUL-terminated, and grown as needed). */
static size_t read_all(int fd, char **out) {
    size_t cap = 1 << 16, got = 0;
    *out = malloc(cap);
    double deadline = now_s() + 20;
    while (now_s() < deadline) {
        if (cap - got < 4096) *out = realloc(*out, cap *= 2);
        struct pollfd pfd = {fd, POLLIN, 0};
        if (poll(&pfd, 1, 100) <= 0) continue;
        ssize_t n = recv(fd, *out + got, cap - 1 - got, 0);
        if (n <= 0) break;
        got += (size_t)n;
    }
    (*out)[got] = '\0';
    return got;
}

/* Decodes the chunked body after the head in `reply` into `body` (allocated); returns its
 * length, or -1 if the framing is wrong or the last chunk is missing. */
static long dechunk(const char *reply, size_t len, char **body) {
    const char *p = strstr(reply, "\r\n\r\n");
    const char *end = reply + len;
    *body = malloc(len + 1);
    long n = 0;
    if (!p) return -1;
    p += 4;
    for (;;) {
        char *after;
        unsigned long size = strtoul(p, &after, 16);
        if (after == p || after + 2 > end || memcmp(after, "\r\n", 2) != 0) return -1;
        p = after + 2;
        if (size == 0) return (p + 2 <= end && memcmp(p, "\r\n", 2) == 0) ? n : -1;
        if (p + size + 2 > end || memcmp(p + size, "\r\n", 2) != 0) return -1;
        memcpy(*body + n, p, size);
        n += (long)size;
        p += size + 2;
    }
}

/* --- a producer with backpressure ------------------------------------------------------ */

struct producer {
    roost_response *res;
    long lines;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int writable;
};

static atomic_int refused;      /* writes that said ROOST_ERR_AGAIN */
static atomic_int produced;     /* producers done */
static atomic_int finish_result = -1;

static void wake_producer(roost_response *res, void *userdata) {
    (void)res;
    struct producer *p = userdata;
    pthread_mutex_lock(&p->lock);
    p->writable = 1;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

/* Writes `len` bytes, waiting for on_writable whenever the stream is full. */
static int write_waiting(struct producer *p, const char *data, size_t len) {
    for (;;) {
        int r = roost_response_write(p->res, data, len);
        if (r != ROOST_ERR_AGAIN) return r;
        atomic_fetch_add(&refused, 1);
        pthread_mutex_lock(&p->lock);
        p->writable = 0;
        pthread_mutex_unlock(&p->lock);
        /* May run at once, on an I/O thread: the flag is cleared before. */
        CHECK(roost_response_on_writable(p->res, wake_producer, p) == ROOST_OK);
        pthread_mutex_lock(&p->lock);
        while (!p->writable) pthread_cond_wait(&p->cond, &p->lock);
        pthread_mutex_unlock(&p->lock);
    }
}

/* Streams "line N\n" for N in 0..lines, a thousand lines a write, then finishes. */
static void *produce(void *arg) {
    struct producer *p = arg;
    CHECK(roost_response_add_header(p->res, S("Content-Type"), S("text/plain")) == ROOST_OK);
    CHECK(roost_response_stream(p->res) == ROOST_OK);
    char piece[16 * 1000];
    for (long n = 0; n < p->lines;) {
        size_t len = 0;
        for (int i = 0; i < 1000 && n < p->lines; i++, n++)
            len += (size_t)snprintf(piece + len, sizeof piece - len, "line %ld\n", n);
        CHECK(write_waiting(p, piece, len) == ROOST_OK);
    }
    atomic_store(&finish_result, roost_response_finish(p->res));
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->cond);
    free(p);
    atomic_fetch_add(&produced, 1);
    return NULL;
}

/* GET /lines/{count}: streamed by a producer thread. */
static int32_t lines_handler(roost_request *req, roost_response *res, void *userdata) {
    (void)userdata;
    roost_str count;
    CHECK(roost_request_param(req, S("count"), &count) == ROOST_OK);
    struct producer *p = calloc(1, sizeof *p);
    p->res = res;
    char digits[16] = {0};
    memcpy(digits, count.ptr, count.len < sizeof digits - 1 ? count.len : sizeof digits - 1);
    p->lines = strtol(digits, NULL, 10);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, produce, p) == 0);
    pthread_detach(t);
    return ROOST_HANDLER_DEFERRED;
}

/* --- streams inside the handler call ---------------------------------------------------- */

/* GET /inline: streamed and finished before the handler returns (with DONE); also checks
 * what a streaming response refuses. */
static int32_t inline_handler(roost_request *req, roost_response *res, void *userdata) {
    (void)userdata;
    CHECK(roost_response_write(res, S("early")) == ROOST_ERR_STATE);
    CHECK(roost_response_on_writable(res, wake_producer, NULL) == ROOST_ERR_STATE);
    CHECK(roost_response_stream(NULL) == ROOST_ERR_NULL);
    CHECK(roost_response_stream(res) == ROOST_OK);
    CHECK(roost_response_stream(res) == ROOST_ERR_STATE);
    CHECK(roost_response_set_status(res, 201) == ROOST_ERR_STATE);
    CHECK(roost_response_add_header(res, S("X-Late"), S("1")) == ROOST_ERR_STATE);
    CHECK(roost_response_write(NULL, S("x")) == ROOST_ERR_NULL);
    CHECK(roost_response_write(res, NULL, 3) == ROOST_ERR_NULL);
    CHECK(roost_response_write(res, NULL, 0) == ROOST_OK);
    CHECK(roost_response_on_writable(res, NULL, NULL) == ROOST_ERR_NULL);
    /* The request stays readable while the response streams. */
    roost_str path = roost_request_path(req);
    CHECK(path.len == 7 && memcmp(path.ptr, "/inline", 7) == 0);
    CHECK(roost_response_write(res, S("in ")) == ROOST_OK);
    CHECK(roost_response_write(res, S("the call")) == ROOST_OK);
    CHECK(roost_response_finish(res) == ROOST_OK);
    CHECK(roost_response_write(res, S("x")) == ROOST_ERR_STATE);
    return ROOST_HANDLER_DONE;
}

/* GET /sized: a declared Content-Length is kept; a write past it is refused. */
static int32_t sized_handler(roost_request *req, roost_response *res, void *userdata) {
    (void)req;
    (void)userdata;
    CHECK(roost_response_add_header(res, S("Content-Length"), S("10")) == ROOST_OK);
    CHECK(roost_response_stream(res) == ROOST_OK);
    CHECK(roost_response_write(res, S("0123456")) == ROOST_OK);
    CHECK(roost_response_write(res, S("789X")) == ROOST_ERR_INVALID);
    CHECK(roost_response_write(res, S("789")) == ROOST_OK);
    CHECK(roost_response_finish(res) == ROOST_OK);
    return ROOST_HANDLER_DEFERRED;
}

/* GET /cut: a producer that fails half-way aborts: the body is cut short. */
static int32_t cut_handler(roost_request *req, roost_response *res, void *userdata) {
    (void)req;
    (void)userdata;
    CHECK(roost_response_stream(res) == ROOST_OK);
    CHECK(roost_response_write(res, S("partial")) == ROOST_OK);
    CHECK(roost_response_abort(res) == ROOST_OK);
    CHECK(roost_response_abort(res) == ROOST_ERR_STATE);
    return ROOST_HANDLER_DEFERRED;
}

/* GET /fail: a deferred response given up before its head left is answered 500. */
static int32_t fail_handler(roost_request *req, roost_response *res, void *userdata) {
    (void)req;
    (void)userdata;
    CHECK(roost_response_set_body(res, S("never sent")) == ROOST_OK);
    CHECK(roost_response_abort(NULL) == ROOST_ERR_NULL);
    CHECK(roost_response_abort(res) == ROOST_OK);
    return ROOST_HANDLER_DEFERRED;
}

/* GET /failed: streams, then fails before the head left: 500 goes out instead, and the
 * writes say the client is gone; the handle is still finished (by the test). */
static roost_response *_Atomic failed_res;
static int32_t failed_handler(roost_request *req, roost_response *res, void *userdata) {
    (void)req;
    (void)userdata;
    CHECK(roost_response_stream(res) == ROOST_OK);
    CHECK(roost_response_write(res, S("never")) == ROOST_OK);
    atomic_store(&failed_res, res);
    return ROOST_HANDLER_FAILED;
}

/* GET /unheard: a callback pending when the response is finished is never called. */
static atomic_int unheard_calls;
static atomic_int unheard_ready;
static void unheard(roost_response *res, void *userdata) {
    (void)res;
    (void)userdata;
    atomic_fetch_add(&unheard_calls, 1);
}
static void *unheard_producer(void *arg) {
    roost_response *res = arg;
    static char piece[64 * 1024];
    memset(piece, 'u', sizeof piece);
    while (roost_response_write(res, piece, sizeof piece) == ROOST_OK) {
    }
    CHECK(roost_response_on_writable(res, unheard, NULL) == ROOST_OK);
    CHECK(roost_response_finish(res) == ROOST_OK);
    atomic_store(&unheard_ready, 1);
    return NULL;
}
static int32_t unheard_handler(roost_request *req, roost_response *res, void *userdata) {
    (void)req;
    (void)userdata;
    CHECK(roost_response_stream(res) == ROOST_OK);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, unheard_producer, res) == 0);
    pthread_detach(t);
    return ROOST_HANDLER_DEFERRED;
}

/* --- a client that leaves ---------------------------------------------------------------- */

static atomic_int closes;
static roost_response *_Atomic forever_res;

static void forever_closed(roost_response *res, void *userdata) {
    (void)userdata;
    CHECK(res == atomic_load(&forever_res));
    atomic_fetch_add(&closes, 1);
}

/* GET /forever: one piece, then nothing until the client leaves; the test finishes it. */
static int32_t forever_handler(roost_request *req, roost_response *res, void *userdata) {
    (void)req;
    (void)userdata;
    atomic_store(&forever_res, res);
    CHECK(roost_response_on_close(res, forever_closed, NULL) == ROOST_OK);
    CHECK(roost_response_stream(res) == ROOST_OK);
    CHECK(roost_response_write(res, S("tick\n")) == ROOST_OK);
    return ROOST_HANDLER_DEFERRED;
}

int main(void) {
    roost_options opts;
    CHECK(roost_options_init(&opts, sizeof opts) == ROOST_OK);
    CHECK(opts.stream_buffer_bytes == 256 * 1024);
    opts.port = 0;
    opts.threads = 1;
    opts.stream_buffer_bytes = 64 * 1024;
    roost_server *srv = NULL;
    CHECK(roost_server_new(&opts, &srv) == ROOST_OK);
    CHECK(roost_server_route(srv, S("GET"), S("/lines/{count}"), lines_handler, NULL) == ROOST_OK);
    CHECK(roost_server_route(srv, S("GET"), S("/inline"), inline_handler, NULL) == ROOST_OK);
    CHECK(roost_server_route(srv, S("GET"), S("/sized"), sized_handler, NULL) == ROOST_OK);
    CHECK(roost_server_route(srv, S("GET"), S("/forever"), forever_handler, NULL) == ROOST_OK);
    CHECK(roost_server_route(srv, S("GET"), S("/cut"), cut_handler, NULL) == ROOST_OK);
    CHECK(roost_server_route(srv, S("GET"), S("/fail"), fail_handler, NULL) == ROOST_OK);
    CHECK(roost_server_route(srv, S("GET"), S("/failed"), failed_handler, NULL) == ROOST_OK);
    CHECK(roost_server_route(srv, S("GET"), S("/unheard"), unheard_handler, NULL) == ROOST_OK);
    CHECK(roost_server_start(srv) == ROOST_OK);
    uint16_t port = roost_server_port(srv);

    /* A large body, with a client that reads only once the producer was held back. */
    {
        const long lines = 400000;
        int fd = connect_loopback(port);
        send_all(fd, "GET /lines/400000 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        CHECK(wait_for(&refused, 1));
        char *reply, *body;
        size_t len = read_all(fd, &reply);
        close(fd);
        CHECK(strstr(reply, "\r\nTransfer-Encoding: chunked\r\n") != NULL);
        CHECK(strstr(reply, "\r\nContent-Type: text/plain\r\n") != NULL);
        long body_len = dechunk(reply, len, &body);
        long expected_len = 0;
        char line[32];
        for (long n = 0; n < lines; n++) expected_len += snprintf(line, sizeof line, "line %ld\n", n);
        CHECK(body_len == expected_len);
        if (body_len == expected_len) {
            CHECK(memcmp(body, "line 0\nline 1\n", 14) == 0);
            CHECK(memcmp(body + body_len - 12, "line 399999\n", 12) == 0);
        }
        CHECK(wait_for(&produced, 1));
        CHECK(atomic_load(&finish_result) == ROOST_OK);
        free(reply);
        free(body);
    }

    /* Streamed and finished inside the handler; then HEAD on the same connection. */
    {
        int fd = connect_loopback(port);
        send_all(fd, "GET /inline HTTP/1.1\r\nHost: t\r\n\r\n"
                     "HEAD /inline HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        char *reply, *body;
        size_t len = read_all(fd, &reply);
        close(fd);
        CHECK(strncmp(reply, "HTTP/1.1 200 OK\r\n", 17) == 0);
        long body_len = dechunk(reply, len, &body);
        CHECK(body_len == 11 && memcmp(body, "in the call", 11) == 0);
        /* The HEAD answer follows the last chunk: fields only. */
        const char *head = strstr(reply, "0\r\n\r\nHTTP/1.1 200 OK\r\n");
        CHECK(head != NULL);
        if (head) {
            CHECK(strstr(head, "Transfer-Encoding: chunked\r\n") != NULL);
            CHECK(strcmp(reply + len - 4, "\r\n\r\n") == 0);
        }
        free(reply);
        free(body);
    }

    /* A declared length. */
    {
        int fd = connect_loopback(port);
        send_all(fd, "GET /sized HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        char *reply;
        size_t len = read_all(fd, &reply);
        close(fd);
        CHECK(strstr(reply, "\r\nContent-Length: 10\r\n") != NULL);
        CHECK(strstr(reply, "Transfer-Encoding") == NULL);
        CHECK(len > 10 && strcmp(reply + len - 14, "\r\n\r\n0123456789") == 0);
        free(reply);
    }

    /* Aborted: a stream cut short (no last chunk, then the close), a deferred one 500. */
    {
        int fd = connect_loopback(port);
        send_all(fd, "GET /cut HTTP/1.1\r\nHost: t\r\n\r\n");
        char *reply;
        size_t len = read_all(fd, &reply);
        close(fd);
        CHECK(strstr(reply, "\r\nTransfer-Encoding: chunked\r\n") != NULL);
        CHECK(len > 12 && strcmp(reply + len - 12, "7\r\npartial\r\n") == 0);
        free(reply);
        fd = connect_loopback(port);
        send_all(fd, "GET /fail HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        read_all(fd, &reply);
        close(fd);
        CHECK(strncmp(reply, "HTTP/1.1 500 ", 13) == 0);
        CHECK(strstr(reply, "never sent") == NULL);
        free(reply);
    }

    /* A handler that streams, then fails. */
    {
        int fd = connect_loopback(port);
        send_all(fd, "GET /failed HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        char *reply;
        read_all(fd, &reply);
        close(fd);
        CHECK(strncmp(reply, "HTTP/1.1 500 ", 13) == 0);
        CHECK(strstr(reply, "never") == NULL);
        free(reply);
        roost_response *res = atomic_load(&failed_res);
        CHECK(roost_response_write(res, S("x")) == ROOST_ERR_CLOSED);
        CHECK(roost_response_finish(res) == ROOST_ERR_CLOSED);
    }

    /* A writable callback pending at the finish is never called, even as the queue drains
     * and the connection closes. */
    {
        int fd = connect_loopback(port);
        send_all(fd, "GET /unheard HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        CHECK(wait_for(&unheard_ready, 1));
        char *reply, *body;
        size_t len = read_all(fd, &reply);
        close(fd);
        CHECK(dechunk(reply, len, &body) > 0);
        free(reply);
        free(body);
        CHECK(atomic_load(&unheard_calls) == 0);
    }

    /* A client that leaves mid-stream. */
    {
        int fd = connect_loopback(port);
        send_all(fd, "GET /forever HTTP/1.1\r\nHost: t\r\n\r\n");
        char got[256] = {0};
        size_t n = 0;
        double deadline = now_s() + 20;
        while (!strstr(got, "tick\n") && now_s() < deadline) {
            ssize_t r = recv(fd, got + n, sizeof got - 1 - n, 0);
            if (r <= 0) break;
            n += (size_t)r;
        }
        CHECK(strstr(got, "5\r\ntick\n\r\n") != NULL);
        close(fd);
        CHECK(wait_for(&closes, 1));
        roost_response *res = atomic_load(&forever_res);
        CHECK(roost_response_write(res, S("late")) == ROOST_ERR_CLOSED);
        CHECK(roost_response_on_writable(res, wake_producer, NULL) == ROOST_ERR_CLOSED);
        CHECK(roost_response_finish(res) == ROOST_ERR_CLOSED);
        CHECK(roost_response_finish(res) == ROOST_ERR_STATE);
        CHECK(atomic_load(&closes) == 1);
    }

    CHECK(roost_server_stop(srv) == ROOST_OK);
    CHECK(roost_server_free(srv) == ROOST_OK);
    return finish_checks("test_stream");
}
