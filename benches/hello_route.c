/* A GET route answering "Hello world!\n" from C, for benches/routes.sh.
 * Usage: hello_route PORT THREADS. Prints the port once listening; Enter stops it. */
#include <stdio.h>
#include <stdlib.h>

#include "roost.h"

static int32_t hello(roost_request *req, roost_response *res, void *userdata) {
    (void)req;
    (void)userdata;
    roost_response_add_header(res, "Content-Type", 12, "text/plain", 10);
    roost_response_set_body(res, "Hello world!\n", 13);
    return ROOST_HANDLER_DONE;
}

int main(int argc, char **argv) {
    roost_options opts;
    roost_options_init(&opts, sizeof opts);
    opts.port = (uint16_t)(argc > 1 ? atoi(argv[1]) : 0);
    opts.threads = (uint32_t)(argc > 2 ? atoi(argv[2]) : 2);
    roost_server *srv;
    if (roost_server_new(&opts, &srv) != ROOST_OK ||
        roost_server_route(srv, "GET", 3, "/hello", 6, hello, NULL) != ROOST_OK ||
        roost_server_start(srv) != ROOST_OK) {
        fprintf(stderr, "hello_route: %s\n", roost_last_error());
        return 1;
    }
    printf("%u\n", roost_server_port(srv));
    fflush(stdout);
    getchar();
    roost_server_free(srv);
    return 0;
}
