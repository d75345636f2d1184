/*
 * https: serve a folder over HTTPS with roost, with plain HTTP beside it redirecting there.
 *
 *     openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
 *         -subj /CN=localhost -addext subjectAltName=DNS:localhost \
 *         -keyout key.pem -out cert.pem
 *     make && target/debug/c-samples/https ./public cert.pem key.pem 8443 8080
 *     curl --cacert cert.pem https://localhost:8443/whoami
 *     curl -i http://127.0.0.1:8080/x          -> 308 to https://127.0.0.1:8443/x
 *
 * Usage: https DIR CERT KEY [PORT] [PLAIN_PORT]   (PORT defaults to 8443, PLAIN_PORT to
 * 8080; 0 picks a free port). Prints one line per listener once listening, then serves
 * until SIGINT or SIGTERM; SIGHUP reads CERT and KEY again (new handshakes use them).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roost.h"

/* /whoami: what the request knows of its TLS connection. */
static int32_t whoami(roost_request *req, roost_response *res, void *userdata) {
    (void)userdata;
    roost_tls_info tls;
    char body[1024];
    int n;
    if (roost_request_tls(req, &tls, sizeof tls) == ROOST_OK) {
        n = snprintf(body, sizeof body, "%.*s %.*s sni=%.*s client=%.*s\n", (int)tls.version.len,
                     tls.version.ptr, (int)tls.cipher.len, tls.cipher.ptr,
                     (int)tls.server_name.len, tls.server_name.ptr ? tls.server_name.ptr : "",
                     (int)tls.client_subject.len,
                     tls.client_subject.ptr ? tls.client_subject.ptr : "");
    } else {
        n = snprintf(body, sizeof body, "plain HTTP\n");
    }
    roost_response_add_header(res, "Content-Type", 12, "text/plain; charset=utf-8", 25);
    roost_response_set_body(res, body, (size_t)n);
    return ROOST_HANDLER_DONE;
}

static int fail(const char *what, roost_result result) {
    fprintf(stderr, "https: %s: %s (%s)\n", what, roost_result_str(result), roost_last_error());
    return 2;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: https DIR CERT KEY [PORT] [PLAIN_PORT]\n");
        return 2;
    }
    const char *dir = argv[1], *cert = argv[2], *key = argv[3];
    int port = argc > 4 ? atoi(argv[4]) : 8443;
    int plain_port = argc > 5 ? atoi(argv[5]) : 8080;

    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);

    roost_options opts;
    roost_options_init(&opts, sizeof opts);
    opts.port = (uint16_t)port;
    opts.listen_flags = ROOST_LISTEN_TLS;

    roost_tls_options tls;
    roost_tls_options_init(&tls, sizeof tls);
    tls.cert_file = cert;
    tls.cert_file_len = strlen(cert);
    tls.key_file = key;
    tls.key_file_len = strlen(key);

    roost_server *srv;
    roost_result r = roost_server_new(&opts, &srv);
    if (r != ROOST_OK) return fail("roost_server_new", r);
    if ((r = roost_server_tls(srv, &tls)) != ROOST_OK ||
        (r = roost_server_listen(srv, "127.0.0.1", 9, (uint16_t)plain_port,
                                 ROOST_LISTEN_REDIRECT_HTTPS)) != ROOST_OK ||
        (r = roost_server_route(srv, "GET", 3, "/whoami", 7, whoami, NULL)) != ROOST_OK ||
        (r = roost_server_static(srv, "/", 1, dir, strlen(dir))) != ROOST_OK ||
        (r = roost_server_start(srv)) != ROOST_OK) {
        int code = fail("setting up", r);
        roost_server_free(srv);
        return code;
    }
    printf("https: serving %s on https://127.0.0.1:%u/\n", dir, roost_server_port(srv));
    printf("https: redirecting http://127.0.0.1:%u/\n", roost_server_listener_port(srv, 1));
    fflush(stdout);

    for (;;) {
        int sig = 0;
        sigwait(&signals, &sig);
        if (sig != SIGHUP) break;
        r = roost_server_reload_tls(srv);
        if (r == ROOST_OK) {
            fprintf(stderr, "https: reloaded %s\n", cert);
        } else {
            fprintf(stderr, "https: reload failed, keeping the old certificate: %s\n",
                    roost_last_error());
        }
    }
    roost_server_free(srv);
    return 0;
}
