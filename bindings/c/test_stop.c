/*
 * test_stop: roost_server_stop under load. Eight client threads keep requesting a small
 * file, a ninth downloads 1 MiB and reads it slowly; the server is stopped while the
 * download is in flight. The download must complete byte for byte, new connections must
 * be refused, stop must return within its bound, and (under valgrind) nothing may leak.
 * Run by `cargo test` (tests/c_samples.rs). Exits 0 when every check passes.
 */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "check.h"

#define BIG (1024 * 1024)
#define LOADERS 8

static atomic_int in_flight;
static atomic_int stopping;
static atomic_int finished_download;
static uint16_t port;

static int connect_to_server(void) { return connect_loopback(port); }

static void pause_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* Keeps asking for /small.txt on keep-alive connections until the server stops. */
static void *load(void *arg) {
    (void)arg;
    char buf[4096];
    const char *req = "GET /small.txt HTTP/1.1\r\nHost: t\r\n\r\n";
    while (!atomic_load(&finished_download)) {
        int fd = connect_to_server();
        if (fd < 0) {
            pause_ms(5);
            continue;
        }
        for (int i = 0; i < 50; i++) {
            if (send(fd, req, strlen(req), MSG_NOSIGNAL) <= 0) break;
            if (recv(fd, buf, sizeof buf, 0) <= 0) break;
        }
        close(fd);
    }
    return NULL;
}

/* Downloads /big.bin, pausing after the first chunk until the stop has begun, then
 * reading the rest slowly. Checks every byte. */
static void *download(void *arg) {
    unsigned char *expected = arg;
    int fd = connect_to_server();
    CHECK(fd >= 0);
    const char *req = "GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n";
    send(fd, req, strlen(req), MSG_NOSIGNAL);
    static unsigned char got[BIG + 4096];
    size_t have = 0;
    size_t head_end = 0;
    for (;;) {
        ssize_t n = recv(fd, got + have, sizeof got - have, 0);
        if (n <= 0) break;
        have += (size_t)n;
        if (!head_end) {
            unsigned char *end = memmem(got, have, "\r\n\r\n", 4);
            if (end) {
                head_end = (size_t)(end - got) + 4;
                atomic_store(&in_flight, 1);
                while (!atomic_load(&stopping)) pause_ms(1);
            }
        }
        if (head_end && have - head_end >= BIG) break;
        pause_ms(2);
    }
    CHECK(head_end > 0);
    CHECK(memmem(got, head_end, "Content-Length: 1048576\r\n", 25) != NULL);
    CHECK(have - head_end == BIG);
    CHECK(memcmp(got + head_end, expected, BIG) == 0);
    close(fd);
    atomic_store(&finished_download, 1);
    return NULL;
}

static double seconds_since(struct timespec start) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start.tv_sec) + (double)(now.tv_nsec - start.tv_nsec) / 1e9;
}

int main(void) {
    char dir[] = "/tmp/roost-stop-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char small[64], big[64];
    snprintf(small, sizeof small, "%s/small.txt", dir);
    snprintf(big, sizeof big, "%s/big.bin", dir);
    FILE *f = fopen(small, "w");
    fputs("small\n", f);
    fclose(f);
    unsigned char *content = malloc(BIG);
    for (size_t i = 0; i < BIG; i++) content[i] = (unsigned char)(i * 7 + i / 251);
    f = fopen(big, "w");
    fwrite(content, 1, BIG, f);
    fclose(f);

    roost_options opts;
    roost_options_init(&opts, sizeof opts);
    opts.port = 0;
    opts.threads = 2;
    opts.shutdown_timeout_ms = 20000;
    roost_server *srv;
    CHECK(roost_server_new(&opts, &srv) == ROOST_OK);
    CHECK(roost_server_static(srv, "/", 1, dir, strlen(dir)) == ROOST_OK);
    CHECK(roost_server_start(srv) == ROOST_OK);
    port = roost_server_port(srv);

    pthread_t loaders[LOADERS], downloader;
    for (int i = 0; i < LOADERS; i++) pthread_create(&loaders[i], NULL, load, NULL);
    pthread_create(&downloader, NULL, download, content);
    while (!atomic_load(&in_flight)) pause_ms(1);

    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    atomic_store(&stopping, 1);
    CHECK(roost_server_stop(srv) == ROOST_OK);
    double took = seconds_since(start);
    CHECK(took < 20.0); /* within the shutdown timeout */
    CHECK(connect_to_server() < 0); /* refused */

    pthread_join(downloader, NULL);
    for (int i = 0; i < LOADERS; i++) pthread_join(loaders[i], NULL);
    roost_server_free(srv);
    free(content);
    unlink(small);
    unlink(big);
    rmdir(dir);

    printf("test_stop: stop took %.2f s\n", took);
    return finish_checks("test_stop");
}
