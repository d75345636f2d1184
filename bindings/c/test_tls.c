/*
 * test_tls: the TLS calls of the C API (roost_tls_options, roost_server_tls,
 * roost_server_add_certificate, roost_server_listen, roost_server_listener_port,
 * roost_server_reload_tls, roost_request_tls): their arguments, their errors, and a
 * server with a plain and a TLS listener side by side. The handshakes themselves are
 * tested with TLS clients from tests/c_samples.rs (the https sample) and tests/tls.rs.
 *
 * Usage: test_tls A_CERT A_KEY B_CERT B_KEY   (PEM files; tests/c_samples.rs makes them)
 */
#include <stdlib.h>

#include "check.h"

static int32_t tls_route(roost_request *req, roost_response *res, void *userdata) {
    (void)userdata;
    roost_tls_info info;
    roost_result r = roost_request_tls(req, &info, sizeof info);
    const char *body = r == ROOST_ERR_NOT_FOUND ? "plain" : "tls";
    CHECK(roost_request_tls(req, NULL, sizeof info) == ROOST_ERR_NULL);
    CHECK(roost_request_tls(req, &info, 3) == ROOST_ERR_INVALID || r == ROOST_ERR_NOT_FOUND);
    roost_response_set_body(res, body, strlen(body));
    return ROOST_HANDLER_DONE;
}

/* The whole file at `path`, NUL-terminated, or NULL; `*len` is its length. */
static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = malloc(1 << 16);
    *len = fread(buf, 1, (1 << 16) - 1, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static void set_files(roost_tls_options *tls, const char *cert, const char *key) {
    tls->cert_file = cert;
    tls->cert_file_len = strlen(cert);
    tls->key_file = key;
    tls->key_file_len = strlen(key);
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: test_tls A_CERT A_KEY B_CERT B_KEY\n");
        return 2;
    }
    const char *a_cert = argv[1], *a_key = argv[2], *b_cert = argv[3], *b_key = argv[4];

    roost_tls_options tls;
    CHECK(roost_tls_options_init(NULL, sizeof tls) == ROOST_ERR_NULL);
    CHECK(roost_tls_options_init(&tls, 7) == ROOST_ERR_INVALID);
    CHECK(roost_tls_options_init(&tls, sizeof tls) == ROOST_OK);
    CHECK(tls.min_version == ROOST_TLS_1_2 && tls.client_auth == ROOST_CLIENT_AUTH_OFF);

    roost_options opts;
    roost_options_init(&opts, sizeof opts);
    opts.port = 0;
    opts.threads = 1;
    opts.listen_flags = 4;
    roost_server *srv = NULL;
    CHECK(roost_server_new(&opts, &srv) == ROOST_ERR_INVALID);
    CHECK(strstr(roost_last_error(), "listen_flags") != NULL);
    opts.listen_flags = ROOST_LISTEN_TLS;
    CHECK(roost_server_new(&opts, &srv) == ROOST_OK);

    /* A TLS listener without certificates cannot start. */
    CHECK(roost_server_start(srv) == ROOST_ERR_INVALID);
    CHECK(strstr(roost_last_error(), "certificate") != NULL);

    CHECK(roost_server_tls(NULL, &tls) == ROOST_ERR_NULL);
    CHECK(roost_server_tls(srv, NULL) == ROOST_ERR_NULL);
    CHECK(roost_server_tls(srv, &tls) == ROOST_ERR_INVALID);
    CHECK(strstr(roost_last_error(), "both needed") != NULL);
    CHECK(roost_server_add_certificate(srv, &tls) == ROOST_ERR_INVALID);
    set_files(&tls, b_cert, b_key);
    CHECK(roost_server_add_certificate(srv, &tls) == ROOST_ERR_STATE);
    CHECK(strstr(roost_last_error(), "roost_server_tls first") != NULL);

    /* Errors name the file and say what is wrong. */
    set_files(&tls, "/no/such/cert.pem", a_key);
    CHECK(roost_server_tls(srv, &tls) == ROOST_ERR_INVALID);
    CHECK(strstr(roost_last_error(), "/no/such/cert.pem: cannot read it: no such file") != NULL);
    set_files(&tls, a_cert, b_key);
    CHECK(roost_server_tls(srv, &tls) == ROOST_ERR_INVALID);
    CHECK(strstr(roost_last_error(), "does not belong") != NULL);
    tls.client_auth = ROOST_CLIENT_AUTH_REQUIRED;
    set_files(&tls, a_cert, a_key);
    CHECK(roost_server_tls(srv, &tls) == ROOST_ERR_INVALID);
    CHECK(strstr(roost_last_error(), "CA bundle") != NULL);
    tls.client_auth = 9;
    CHECK(roost_server_tls(srv, &tls) == ROOST_ERR_INVALID);
    tls.client_auth = ROOST_CLIENT_AUTH_OFF;
    tls.min_version = 0x0302;
    CHECK(roost_server_tls(srv, &tls) == ROOST_ERR_INVALID);
    tls.min_version = ROOST_TLS_1_2;

    /* The default certificate from memory, and one for SNI from files. */
    size_t cert_len = 0, key_len = 0;
    char *cert_pem = slurp(a_cert, &cert_len);
    char *key_pem = slurp(a_key, &key_len);
    CHECK(cert_pem != NULL && key_pem != NULL);
    tls.cert_pem = cert_pem;
    tls.cert_pem_len = cert_len;
    CHECK(roost_server_tls(srv, &tls) == ROOST_ERR_INVALID);
    CHECK(strstr(roost_last_error(), "both set") != NULL);
    roost_tls_options_init(&tls, sizeof tls);
    tls.cert_pem = cert_pem;
    tls.cert_pem_len = cert_len;
    tls.key_pem = key_pem;
    tls.key_pem_len = key_len;
    CHECK(roost_server_tls(srv, &tls) == ROOST_OK);
    free(cert_pem);
    free(key_pem);
    roost_tls_options_init(&tls, sizeof tls);
    set_files(&tls, b_cert, b_key);
    CHECK(roost_server_add_certificate(srv, &tls) == ROOST_OK);

    /* Listeners. */
    CHECK(roost_server_listen(NULL, "127.0.0.1", 9, 0, 0) == ROOST_ERR_NULL);
    CHECK(roost_server_listen(srv, "nowhere", 7, 0, 0) == ROOST_ERR_INVALID);
    CHECK(roost_server_listen(srv, "127.0.0.1", 9, 0, 8) == ROOST_ERR_INVALID);
    CHECK(roost_server_listen(srv, "127.0.0.1", 9, 0,
                              ROOST_LISTEN_TLS | ROOST_LISTEN_REDIRECT_HTTPS) == ROOST_ERR_INVALID);
    CHECK(roost_server_listen(srv, "127.0.0.1", 9, 0, 0) == ROOST_OK);
    CHECK(roost_server_listen(srv, "127.0.0.1", 9, 0, ROOST_LISTEN_REDIRECT_HTTPS) == ROOST_OK);
    CHECK(roost_server_route(srv, "GET", 3, "/tls", 4, tls_route, NULL) == ROOST_OK);
    CHECK(roost_server_listener_port(srv, 0) == 0);
    CHECK(roost_server_start(srv) == ROOST_OK);

    uint16_t https = roost_server_listener_port(srv, 0);
    uint16_t plain = roost_server_listener_port(srv, 1);
    uint16_t redirect = roost_server_listener_port(srv, 2);
    CHECK(https != 0 && https == roost_server_port(srv) && plain != 0 && redirect != 0);
    CHECK(roost_server_listener_port(srv, 3) == 0);
    CHECK(roost_server_listener_port(NULL, 0) == 0);
    CHECK(roost_server_tls(srv, &tls) == ROOST_ERR_STATE);
    CHECK(roost_server_listen(srv, "127.0.0.1", 9, 0, 0) == ROOST_ERR_STATE);

    char reply[4096];
    exchange_text(plain, "GET /tls HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", reply,
                  sizeof reply);
    CHECK(strstr(reply, "HTTP/1.1 200 OK") == reply && strstr(reply, "\r\n\r\nplain") != NULL);
    exchange_text(redirect, "GET /x?y=1 HTTP/1.1\r\nHost: example.test\r\n\r\n", reply,
                  sizeof reply);
    char location[128];
    snprintf(location, sizeof location, "Location: https://example.test:%u/x?y=1\r\n", https);
    CHECK(strstr(reply, "HTTP/1.1 308 ") == reply && strstr(reply, location) != NULL);
    exchange_text(https, "GET /tls HTTP/1.1\r\nHost: a\r\n\r\n", reply, sizeof reply);
    CHECK(strstr(reply, "HTTP/1.1 400 ") == reply && strstr(reply, "speaks HTTPS") != NULL);

    /* Reloading reads the files again, while running; the certificate in memory stays. */
    CHECK(roost_server_reload_tls(srv) == ROOST_OK);
    CHECK(roost_server_reload_tls(NULL) == ROOST_ERR_NULL);
    CHECK(roost_server_free(srv) == ROOST_OK);

    /* A failed reload names the file; no TLS at all is a state error. */
    char path[64];
    snprintf(path, sizeof path, "/tmp/roost-test-tls-%d.pem", (int)getpid());
    size_t b_len = 0;
    char *b_pem = slurp(b_cert, &b_len);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL && b_pem != NULL);
    fwrite(b_pem, 1, b_len, f);
    fclose(f);
    free(b_pem);
    opts.listen_flags = 0;
    CHECK(roost_server_new(&opts, &srv) == ROOST_OK);
    CHECK(roost_server_reload_tls(srv) == ROOST_ERR_STATE);
    set_files(&tls, path, b_key);
    CHECK(roost_server_tls(srv, &tls) == ROOST_OK);
    f = fopen(path, "wb");
    fputs("garbage", f);
    fclose(f);
    CHECK(roost_server_reload_tls(srv) == ROOST_ERR_INVALID);
    CHECK(strstr(roost_last_error(), path) != NULL);
    unlink(path);
    CHECK(roost_server_free(srv) == ROOST_OK);

    CHECK(roost_request_tls(NULL, NULL, 0) == ROOST_ERR_NULL);
    return finish_checks("test_tls");
}
