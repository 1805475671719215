#!/usr/bin/env python3
"""Reference for the differential test: the original system's file checks
(spec 40-inbox.md, Checks) written with Python's own csv module, run over
files named on the command line. Prints one JSON object per file."""
import csv
import json
import sys


def profile(header):
    first = header[0].lower()
    for name, col in (("Idox Eros (Halarose)", "houseid"), ("Xpress WebLookup", "authoritycode"), ("Xpress DC", "electiondate")):
        if first == col:
            return name
    if "xordinate" in [h.lower() for h in header]:
        return "Democracy Counts"
    return "unknown"


def check(path):
    out = {"valid": False, "rows": None, "encoding": "", "delimiter": "", "profile": "unknown", "errors": []}
    with open(path, "rb") as f:
        body = f.read()
    if len(body) < 1024:
        out["rows"] = 0
        out["errors"].append("Expected file to be at least 1KB")
        return out
    text = None
    for enc in ("utf-8", "windows-1252", "latin-1"):
        try:
            text = body.decode(enc)
            out["encoding"] = enc
            break
        except UnicodeDecodeError:
            pass
    try:
        delim = csv.Sniffer().sniff(text[:10000], [",", "\t"]).delimiter
    except csv.Error:
        delim = "\t" if path.lower().endswith(".tsv") else ","
    out["delimiter"] = delim
    try:
        rows = csv.reader(text.splitlines(True), delimiter=delim, quotechar='"')
        header = next(rows)
        if len(header) < 3:
            out["errors"].append("File has only %d columns. We might have failed to detect the delimiter" % len(header))
            return out
        out["profile"] = profile(header)
        n = 1
        for row in rows:
            n += 1
            if len(row) < len(header):
                out["errors"].append("Incomplete file: Expected %d columns on row %d found %d" % (len(header), n, len(row)))
                out["rows"] = n
                return out
        out["rows"] = n
        out["valid"] = True
    except csv.Error:
        out["errors"].append("Failed to parse body")
    return out


for p in sys.argv[1:]:
    print(json.dumps(check(p)))
