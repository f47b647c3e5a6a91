"""Decode workload of bench.py on one file, CPU time, 3 runs: python benches/decode_mixed.py FILE.pcap"""
import time, sys
from openbsd import pcap
F=sys.argv[1]
def run():
    nip = nl4 = sproto = sports = 0
    def cb(p, ts, length):
        nonlocal nip, nl4, sproto, sports
        if "ip" in p:
            ip = p["ip"]
            src, dst, proto = ip.src, ip.dst, ip.protocol
        elif "ipv6" in p:
            ip = p["ipv6"]
            src, dst, proto = ip.src, ip.dst, ip.nextheader
        else:
            return
        nip += 1
        sproto += proto
        if "tcp" in p:
            l4 = p["tcp"]
        elif "udp" in p:
            l4 = p["udp"]
        else:
            return
        sport, dport = l4.srcPort, l4.dstPort
        nl4 += 1
        sports += sport + dport
    f = pcap.Offline(F)
    t=time.process_time()
    n = f.loop(0, cb, interpret=1)
    return n/(time.process_time()-t)
print("decode Mpps", sorted(run()/1e6 for _ in range(3)))
