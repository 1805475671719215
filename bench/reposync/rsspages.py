#!/usr/bin/env python3
"""rsspages.py — which pages of a Go binary a run keeps resident, and whose code they hold.

  bench/reposync/rsspages.py BINARY ARGS...     (Linux, root or CAP_SYS_ADMIN for /proc/PID/pagemap)

Runs BINARY ARGS (output discarded), samples /proc/PID/status (peak VmRSS, RssAnon, RssFile)
and /proc/PID/pagemap every 2 ms for the pages of BINARY's own file mappings, and prints:
the peaks, the resident KB per ELF section (the union of pages seen mapped), and the
resident KB of the binary's code per Go package (text symbols from `go tool nm`; module
paths are grouped at their repository root). Used to split peak RSS into anonymous memory
and the binary's file-backed pages (clean, shared with the page cache).
"""
import bisect, collections, os, re, struct, subprocess, sys, time

PG = 4096
GROUPS = ('google.golang.org/grpc', 'google.golang.org/protobuf', 'google.golang.org/genproto',
          'google.golang.org/api', 'cloud.google.com/go/storage', 'cloud.google.com/go',
          'github.com/aws/aws-sdk-go-v2', 'github.com/aws/smithy-go', 'github.com/Azure/azure-sdk-for-go',
          'go.opentelemetry.io', 'gocloud.dev', 'github.com/ghsync/ghsync', 'modernc.org', 'github.com/go-git',
          'github.com/jackc', 'github.com/riverqueue', 'golang.org/x', 'github.com/envoyproxy', 'github.com/cncf')


def run(binary, args):
    p = subprocess.Popen([binary] + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    present, peak = set(), collections.Counter()
    while p.poll() is None:
        try:
            for line in open(f'/proc/{p.pid}/status'):
                k, _, v = line.partition(':')
                if k in ('VmRSS', 'RssAnon', 'RssFile'):
                    peak[k] = max(peak[k], int(v.split()[0]))
            maps = [l.split() for l in open(f'/proc/{p.pid}/maps')]
            with open(f'/proc/{p.pid}/pagemap', 'rb') as pm:
                for m in maps:
                    if len(m) < 6 or m[5] != binary:
                        continue
                    lo, hi = (int(x, 16) for x in m[0].split('-'))
                    pm.seek(lo // PG * 8)
                    data = pm.read((hi - lo) // PG * 8)
                    for i in range(len(data) // 8):
                        if struct.unpack_from('<Q', data, i * 8)[0] >> 63:
                            present.add(lo + i * PG)
        except (OSError, ValueError):
            pass  # the process is gone or between states
        time.sleep(0.002)
    return p.returncode, peak, present


def sections(binary):
    out = []
    for l in subprocess.run(['readelf', '-SW', binary], capture_output=True, text=True, check=True).stdout.splitlines():
        m = re.match(r'\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)', l)
        if m and int(m.group(2), 16):
            out.append((int(m.group(2), 16), int(m.group(3), 16), m.group(1)))
    return out


def package(sym):
    sym = re.sub(r'^(type:|go:itab\.\*?|go:)', '', sym)
    i = sym.rfind('/')
    j = sym.find('.', i + 1)
    p = sym[:j] if j > 0 else sym
    for g in GROUPS:
        if p.startswith(g):
            return g
    return p if '.' in p.split('/')[0] else 'std'


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    binary = os.path.realpath(sys.argv[1])
    rc, peak, present = run(binary, sys.argv[2:])
    print(f'exit {rc}; peak KB: ' + ', '.join(f'{k} {v}' for k, v in sorted(peak.items())))
    by_sec = collections.Counter()
    secs = sections(binary)
    for a in present:
        name = next((n for s, size, n in secs if s <= a < s + size or a <= s < a + PG), '?')
        by_sec[name] += PG // 1024
    print(f'binary pages resident: {len(present) * PG // 1024} KB; by section: ' +
          ', '.join(f'{k} {v}' for k, v in by_sec.most_common()))
    nm = subprocess.run(['go', 'tool', 'nm', '-size', binary], capture_output=True, text=True)
    if nm.returncode != 0:
        print(f'no per-package split: go tool nm failed (a stripped binary?): {nm.stderr.strip()[:200]}')
        return
    by_pkg = collections.Counter()
    for l in nm.stdout.splitlines():
        f = l.split(None, 3)
        if len(f) != 4 or f[2] not in 'Tt' or int(f[1]) == 0:
            continue
        s, n = int(f[0], 16), int(f[1])
        a = s // PG * PG
        while a < s + n:
            if a in present:
                by_pkg[package(f[3])] += min(a + PG, s + n) - max(a, s)
            a += PG
    print('resident code KB by package (top 20): ' + ', '.join(f'{k} {v // 1024}' for k, v in by_pkg.most_common(20)))


if __name__ == '__main__':
    main()
