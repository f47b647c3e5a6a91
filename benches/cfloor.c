/*
 * The C floor for benches/bench.py: how fast libpcap itself reads a savefile.
 *
 *   cc -O2 benches/cfloor.c -lpcap -o benches/.build/cfloor
 *   benches/.build/cfloor FILE [--runs N] [--only raw|decode]
 *
 * Workloads (each timed as open + pcap_loop over the whole file + close,
 * median of N runs, default 3):
 *   raw     pcap_loop with a callback that sums the wire lengths
 *   decode  same, and the callback also parses Ethernet (802.1Q/802.1ad tags),
 *           IPv4/IPv6 addresses and protocol, TCP/UDP ports, by hand
 *
 * Prints one JSON object per workload on its own line:
 *   {"name": "c_raw", "workload": "raw", "pps": ..., "packets": ...,
 *    "seconds": ..., "check": "..."}
 * "check" is the same string bench.py's Python readers compute, so results
 * can be cross-checked: raw "bytes=<sum of wire lengths>", decode
 * "ip=<IPv4+IPv6 packets> l4=<TCP+UDP packets> proto=<sum of IP protocol
 * numbers> ports=<sum of source+destination ports>".
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct raw_acc {
    uint64_t packets;
    uint64_t bytes;
};

struct decode_acc {
    uint64_t packets;
    uint64_t ip, l4, proto, ports;
    uint64_t addr_sink; /* folds the addresses so they are really read */
};

static void raw_cb(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct raw_acc *a = (struct raw_acc *)user;
    (void)bytes;
    a->packets++;
    a->bytes += h->len;
}

static inline uint16_t be16(const u_char *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static void decode_cb(u_char *user, const struct pcap_pkthdr *h, const u_char *p)
{
    struct decode_acc *a = (struct decode_acc *)user;
    uint32_t caplen = h->caplen;
    uint32_t off = 14;
    uint16_t etype;
    unsigned proto;
    uint32_t l4;
    int ports_ok = 1;
    unsigned char src[16], dst[16];

    a->packets++;
    if (caplen < 14)
        return;
    etype = be16(p + 12);
    while ((etype == 0x8100 || etype == 0x88a8) && off + 4 <= caplen) {
        etype = be16(p + off + 2);
        off += 4;
    }
    if (etype == 0x0800) {
        unsigned ihl;
        if (off + 20 > caplen || (p[off] >> 4) != 4)
            return;
        ihl = (p[off] & 0x0f) * 4u;
        if (ihl < 20)
            return;
        proto = p[off + 9];
        memcpy(src, p + off + 12, 4);
        memcpy(dst, p + off + 16, 4);
        a->addr_sink += (uint64_t)src[0] + src[3] + dst[0] + dst[3];
        if (be16(p + off + 6) & 0x1fff) /* not the first fragment: no ports */
            ports_ok = 0;
        l4 = off + ihl;
    } else if (etype == 0x86dd) {
        if (off + 40 > caplen || (p[off] >> 4) != 6)
            return;
        proto = p[off + 6];
        memcpy(src, p + off + 8, 16);
        memcpy(dst, p + off + 24, 16);
        a->addr_sink += (uint64_t)src[0] + src[15] + dst[0] + dst[15];
        l4 = off + 40;
    } else {
        return;
    }
    a->ip++;
    a->proto += proto;
    if ((proto == 6 || proto == 17) && ports_ok && l4 + 4 <= caplen) {
        a->l4++;
        a->ports += (uint64_t)be16(p + l4) + be16(p + l4 + 2);
    }
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static double median(double *t, int n)
{
    qsort(t, n, sizeof t[0], cmp_double);
    return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

/* one timed pass; returns seconds, or -1 on error */
static double run_once(const char *path, pcap_handler cb, u_char *acc)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    double t0 = now();
    pcap_t *pc = pcap_open_offline(path, errbuf);
    if (!pc) {
        fprintf(stderr, "cfloor: %s\n", errbuf);
        return -1;
    }
    if (pcap_loop(pc, 0, cb, acc) == PCAP_ERROR) {
        fprintf(stderr, "cfloor: %s: %s\n", path, pcap_geterr(pc));
        pcap_close(pc);
        return -1;
    }
    pcap_close(pc);
    return now() - t0;
}

int main(int argc, char **argv)
{
    const char *path = NULL, *only = NULL;
    int runs = 3;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else if (argv[i][0] != '-' && !path)
            path = argv[i];
        else {
            fprintf(stderr, "usage: %s FILE [--runs N] [--only raw|decode]\n", argv[0]);
            return 2;
        }
    }
    if (!path || runs < 1 || runs > 100) {
        fprintf(stderr, "usage: %s FILE [--runs N] [--only raw|decode]\n", argv[0]);
        return 2;
    }

    double t[100];
    if (!only || !strcmp(only, "raw")) {
        struct raw_acc a = {0};
        for (int r = 0; r < runs; r++) {
            memset(&a, 0, sizeof a);
            if ((t[r] = run_once(path, raw_cb, (u_char *)&a)) < 0)
                return 1;
        }
        double med = median(t, runs);
        printf("{\"name\": \"c_raw\", \"workload\": \"raw\", \"pps\": %.0f, \"packets\": %llu, "
               "\"seconds\": %.6f, \"check\": \"bytes=%llu\"}\n",
               a.packets / med, (unsigned long long)a.packets, med, (unsigned long long)a.bytes);
        fflush(stdout);
    }
    if (!only || !strcmp(only, "decode")) {
        struct decode_acc a = {0};
        for (int r = 0; r < runs; r++) {
            memset(&a, 0, sizeof a);
            if ((t[r] = run_once(path, decode_cb, (u_char *)&a)) < 0)
                return 1;
        }
        double med = median(t, runs);
        printf("{\"name\": \"c_decode\", \"workload\": \"decode\", \"pps\": %.0f, \"packets\": %llu, "
               "\"seconds\": %.6f, \"check\": \"ip=%llu l4=%llu proto=%llu ports=%llu\", \"sink\": %llu}\n",
               a.packets / med, (unsigned long long)a.packets, med, (unsigned long long)a.ip,
               (unsigned long long)a.l4, (unsigned long long)a.proto, (unsigned long long)a.ports,
               (unsigned long long)a.addr_sink);
        fflush(stdout);
    }
    return 0;
}
