/* flood DST_IP PORT COUNT [SIZE]: send COUNT UDP datagrams of SIZE bytes
 * payload to DST_IP:PORT as fast as sendmmsg allows, then print what was
 * sent as JSON. Used by live_drop.py inside a private network namespace
 * only (the destination is the other end of a veth pair it created). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: flood DST_IP PORT COUNT [SIZE]\n"); return 2; }
    long count = atol(argv[3]);
    int size = argc > 4 ? atoi(argv[4]) : 64;
    if (size < 8 || size > 1400) size = 64;
    struct sockaddr_in dst = {0};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(atoi(argv[2]));
    if (inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1) { fprintf(stderr, "bad address\n"); return 2; }
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0) { perror("socket"); return 1; }
    static char payload[BATCH][1400];
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < BATCH; i++) {
        iov[i].iov_base = payload[i];
        iov[i].iov_len = size;
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_name = &dst;
        msgs[i].msg_hdr.msg_namelen = sizeof dst;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long sent = 0, seq = 0;
    while (sent < count) {
        int n = count - sent < BATCH ? (int)(count - sent) : BATCH;
        for (int i = 0; i < n; i++) { long v = seq++; memcpy(payload[i], &v, sizeof v); }
        int r = sendmmsg(s, msgs, n, 0);
        if (r < 0) { perror("sendmmsg"); break; }
        sent += r;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("{\"sent\": %ld, \"seconds\": %.6f, \"pps\": %.0f}\n", sent, secs, sent / secs);
    return 0;
}
