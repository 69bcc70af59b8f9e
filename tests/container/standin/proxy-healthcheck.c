/* /bin/proxy-healthcheck in the stand-in proxy image: what nix/proxy-image.nix's compiled curl
 * wrapper does (`curl --fail --max-time 3 http://127.0.0.1:8080/proxy-health`), without curl.
 * One HTTP GET to nginx's own health location; exit 0 on a 200, 1 otherwise (no shell needed). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define REQUEST "GET /proxy-health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"

int main(void) {
    struct timeval timeout = {.tv_sec = 3};
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(8080)};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int sock = socket(AF_INET, SOCK_STREAM, 0);
    if (sock < 0) {
        perror("proxy-healthcheck: socket");
        return 1;
    }
    setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    if (connect(sock, (struct sockaddr *)&address, sizeof address) != 0) {
        perror("proxy-healthcheck: connect 127.0.0.1:8080");
        return 1;
    }
    if (send(sock, REQUEST, strlen(REQUEST), 0) != (ssize_t)strlen(REQUEST)) {
        perror("proxy-healthcheck: send");
        return 1;
    }
    char status[32] = {0};
    size_t got = 0;
    while (got < sizeof status - 1) {
        ssize_t n = recv(sock, status + got, sizeof status - 1 - got, 0);
        if (n <= 0) break;
        got += (size_t)n;
    }
    close(sock);
    /* "HTTP/1.1 200 OK": the status code is the second word. */
    if (got >= 12 && strncmp(status, "HTTP/1.", 7) == 0 && strncmp(status + 8, " 200", 4) == 0) return 0;
    fprintf(stderr, "proxy-healthcheck: not 200: %.12s\n", status);
    return 1;
}
