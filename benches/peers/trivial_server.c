/* The ceiling reference for benches/compare.py: an epoll server that parses nothing.
 * It counts "\r\n\r\n" in what it reads and answers each with one fixed 13-byte response,
 * all the answers to one read in one write. One thread; no timeouts, no limits.
 * Usage: trivial_server PORT (0 picks one). Prints the port once listening. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static const char RESPONSE[] = "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello world!\n";
#define RESPONSE_LEN (sizeof RESPONSE - 1)
#define MAX_FDS 65536

/* How far into "\r\n\r\n" each connection's input has matched. */
static unsigned char matched[MAX_FDS];

int main(int argc, char **argv) {
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    addr.sin_port = htons((unsigned short)(argc > 1 ? atoi(argv[1]) : 0));
    socklen_t len = sizeof addr;
    if (bind(listener, (struct sockaddr *)&addr, len) || listen(listener, 4096) ||
        getsockname(listener, (struct sockaddr *)&addr, &len)) {
        perror("trivial_server");
        return 1;
    }
    printf("%u\n", ntohs(addr.sin_port));
    fflush(stdout);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = listener}, events[256];
    epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
    static char in[65536], out[65536 / 4 * RESPONSE_LEN];
    for (;;) {
        int n = epoll_wait(ep, events, 256, -1);
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == listener) {
                int c;
                while ((c = accept4(listener, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    if (c >= MAX_FDS) { close(c); continue; }
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    matched[c] = 0;
                    ev.events = EPOLLIN;
                    ev.data.fd = c;
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
                }
                continue;
            }
            ssize_t got = read(fd, in, sizeof in);
            if (got <= 0) { close(fd); continue; }
            size_t answers = 0;
            for (ssize_t k = 0; k < got; k++) {
                unsigned char m = matched[fd], want = (m % 2 == 0) ? '\r' : '\n';
                matched[fd] = in[k] == want ? m + 1 : (in[k] == '\r');
                if (matched[fd] == 4) { matched[fd] = 0; answers++; }
            }
            size_t bytes = 0;
            for (size_t a = 0; a < answers; a++, bytes += RESPONSE_LEN)
                memcpy(out + bytes, RESPONSE, RESPONSE_LEN);
            if (bytes && write(fd, out, bytes) < 0) close(fd);
        }
    }
}
