"""Turns the benchmark's result lines into tables with ratios and targets, and
writes them as JSON.

    report.py RAW.jsonl RESULTS.json [--quick 0|1]

Targets are informational: PASS/MISS is printed, the exit status stays 0."""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
from collections import OrderedDict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def sh(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine():
    model = ""
    for line in sh("lscpu").splitlines():
        if line.startswith("Model name:"):
            model = line.split(":", 1)[1].strip()
    pretty = ""
    try:
        with open("/etc/os-release", encoding="utf-8") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    pretty = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    venv_py = os.path.join(ROOT, "target", "bench-venv", "bin", "python")
    sdk = sh(venv_py, "-c", "import importlib.metadata as m; print(m.version('azure-communication-chat'), m.version('azure-core'))")
    return {
        "cpus": os.cpu_count(),
        "nproc": sh("nproc"),
        "cpu_model": model,
        "os": pretty,
        "kernel": platform.release(),
        "rustc": sh("rustc", "--version"),
        "libcurl": sh("curl-config", "--version"),
        "python": sh(venv_py, "--version") or platform.python_version(),
        "azure_communication_chat_and_core": sdk,
    }


def med(values):
    return statistics.median(values) if values else float("nan")


def rng(values, fmt="{:.1f}"):
    if not values:
        return "-"
    if len(values) == 1:
        return fmt.format(values[0])
    return (fmt + "-" + fmt).format(min(values), max(values))


def cell(values, fmt="{:.1f}"):
    if len(values) <= 1:
        return fmt.format(values[0]) if values else "-"
    return f"{fmt.format(med(values))} ({rng(values, fmt)})"


def verdict(ok):
    return "PASS" if ok else "MISS"


def table(headers, rows):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    line = "  ".join(str(h).ljust(w) for h, w in zip(headers, widths))
    out = [line, "  ".join("-" * w for w in widths)]
    for r in rows:
        out.append("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))
    return "\n".join(out)


def group(records, section):
    cases = OrderedDict()
    for rec in records:
        if rec.get("section") != section:
            continue
        cases.setdefault(rec["case"], OrderedDict()).setdefault(rec["impl"], []).append(rec)
    return cases


LAT_HEADERS = ["impl", "p50 us (range)", "p99 us (range)", "calls/s (range)", "CPU us/call", "rounds x calls"]


def latency_rows(impls):
    rows = []
    for impl, recs in impls.items():
        cpu = [r["cpu_us_per_call"] for r in recs if "cpu_us_per_call" in r]
        rows.append([
            impl,
            cell([r["p50_us"] for r in recs]),
            cell([r["p99_us"] for r in recs]),
            cell([r["calls_per_s"] for r in recs], "{:.0f}"),
            f"{med(cpu):.1f}" if cpu else "-",
            f"{len(recs)} x {recs[0]['n']}",
        ])
    return rows


def per_round_ratio(num, den, key="p50_us"):
    by_round = {r["round"]: r[key] for r in den}
    return [r[key] / by_round[r["round"]] for r in num if r["round"] in by_round and by_round[r["round"]]]


def pair_section(records, section, ours, base, title, ratio_fn, target_text, target_ok, summary):
    cases = group(records, section)
    if not cases:
        return []
    out = [f"\n### {title}"]
    summary[section] = {}
    for case, impls in cases.items():
        out.append(f"\n{case}")
        out.append(table(LAT_HEADERS, latency_rows(impls)))
        entry = {impl: {"p50_us": med([r["p50_us"] for r in recs]),
                        "cpu_us_per_call": med([r["cpu_us_per_call"] for r in recs if "cpu_us_per_call" in r]),
                        "p99_us": med([r["p99_us"] for r in recs]),
                        "calls_per_s": med([r["calls_per_s"] for r in recs]),
                        "p50_us_range": [min(r["p50_us"] for r in recs), max(r["p50_us"] for r in recs)]}
                 for impl, recs in impls.items()}
        if ours in impls and base in impls:
            of_medians, rounds, label = ratio_fn(impls[ours], impls[base])
            ratio = med(rounds) if rounds else of_medians
            ok = target_ok(ratio)
            out.append(f"{label}: {ratio:.2f} (median of per-round ratios, range {rng(rounds, '{:.2f}')}; "
                       f"ratio of medians {of_medians:.2f})   target {target_text}: {verdict(ok)}")
            entry["ratio"] = {"name": label, "value": round(ratio, 3),
                              "per_round": [round(x, 3) for x in rounds],
                              "of_medians": round(of_medians, 3),
                              "target": target_text, "pass": ok}
        summary[section][case] = entry
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("raw")
    ap.add_argument("results")
    ap.add_argument("--quick", default="0")
    args = ap.parse_args()
    records = []
    with open(args.raw, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                records.append(json.loads(line))
    mach = machine()
    summary = OrderedDict()
    out = [f"machine: {mach['nproc']} cores, {mach['cpu_model']}, {mach['os']}, kernel {mach['kernel']}"]
    if args.quick == "1":
        out.append("QUICK RUN: few iterations, figures are a smoke test only")

    checks = [r for r in records if r.get("case") == "request bytes"]
    for c in checks[:1] if all(c["same"] for c in checks) else checks:
        out.append(f"libcurl baseline sends the library's request bytes (line, {c['headers']} headers, "
                   f"{c['body_bytes']}-byte body; only x-ms-client-request-id differs): "
                   f"{'yes' if c['same'] else 'NO'}")
    records = [r for r in records if r.get("case") != "request bytes"]

    def c_ratio(ours, base):
        r = med([x["p50_us"] for x in ours]) / med([x["p50_us"] for x in base])
        return r, per_round_ratio(ours, base), "p50 acs_chat / libcurl"

    out += pair_section(records, "c", "acs_chat", "libcurl",
                        "1. C: acs_send_message vs libcurl (one thread, keep-alive)",
                        c_ratio, "<= 1.10", lambda r: r <= 1.10, summary)

    def py_ratio(ours, base):
        r = med([x["p50_us"] for x in base]) / med([x["p50_us"] for x in ours])
        return r, [1 / x for x in per_round_ratio(ours, base)], "speed-up p50 official / acs_chat"

    out += pair_section(records, "python", "acs_chat", "official",
                        "2. Python: acs_chat binding vs azure-communication-chat",
                        py_ratio, ">= 8x", lambda r: r >= 8.0, summary)

    # 3. scale
    scale = group(records, "scale")
    threads_cases = [(c, i) for c, i in scale.items() if c.startswith("threads=")]
    if threads_cases or "clients" in scale:
        out.append("\n### 3. Scale")
        summary["scale"] = {}
    if threads_cases:
        rows, ours_cps = [], []
        for case, impls in threads_cases:
            ours = impls.get("acs_chat", [])
            base = impls.get("libcurl", [])
            ocps = [r["calls_per_s"] for r in ours]
            bcps = [r["calls_per_s"] for r in base]
            ours_cps.append((ours[0]["threads"] if ours else 0, med(ocps)))
            ocpu = [r["cpu_us_per_call"] for r in ours if "cpu_us_per_call" in r]
            bcpu = [r["cpu_us_per_call"] for r in base if "cpu_us_per_call" in r]
            ocsw = [r["csw_per_call"] for r in ours if "csw_per_call" in r]
            bcsw = [r["csw_per_call"] for r in base if "csw_per_call" in r]
            rows.append([case.split("=")[1], cell(ocps, "{:.0f}"),
                         cell([r["p50_us"] for r in ours]), cell([r["p99_us"] for r in ours]),
                         f"{med(ocpu):.1f} / {med(ocsw):.2f}" if ocpu else "-",
                         cell(bcps, "{:.0f}"), f"{med(bcpu):.1f} / {med(bcsw):.2f}" if bcpu else "-",
                         f"{med(ocps) / med(bcps):.2f}" if bcps else "-"])
            summary["scale"][case] = {
                "acs_chat_calls_per_s": med(ocps), "acs_chat_p50_us": med([r["p50_us"] for r in ours]),
                "acs_chat_p99_us": med([r["p99_us"] for r in ours]),
                "acs_chat_cpu_us_per_call": med(ocpu) if ocpu else None,
                "acs_chat_csw_per_call": med(ocsw) if ocsw else None,
                "libcurl_calls_per_s": med(bcps) if bcps else None,
                "libcurl_cpu_us_per_call": med(bcpu) if bcpu else None,
                "libcurl_csw_per_call": med(bcsw) if bcsw else None}
        out.append("\none client shared by N threads, send_message (libcurl: one easy handle per thread, reference)")
        out.append(table(["threads", "acs_chat calls/s (range)", "p50 us (range)", "p99 us (range)",
                          "CPU us / ctx sw per call", "libcurl calls/s (range)", "libcurl CPU us / ctx sw",
                          "acs/curl calls/s"], rows))
        ok = all(b[1] >= 0.95 * a[1] for a, b in zip(ours_cps, ours_cps[1:]))
        out.append(f"calls/s does not drop as threads rise (each step >= 95% of the previous): {verdict(ok)}")
        summary["scale"]["threads_target"] = {"target": "calls/s does not drop as threads rise", "pass": ok}
    if "clients" in scale:
        c = scale["clients"]["acs_chat"][0]
        mib = lambda kb: kb / 1024.0
        rows = [
            ["process start (library loaded)", f"{mib(c['rss_kb_start']):.1f}", c["threads_start"]],
            ["1 client, 1 send", f"{mib(c['rss_kb_one_client']):.1f}", c["threads_one_client"]],
            [f"{c['clients']} clients created", f"{mib(c['rss_kb_all_created']):.1f}", c["threads_all_created"]],
            [f"{c['clients']} clients, each sent once", f"{mib(c['rss_kb_all_sent']):.1f}", c["threads_all_sent"]],
            ["all freed", f"{mib(c['rss_kb_freed']):.1f}", c["threads_freed"]],
        ]
        out.append(f"\n{c['clients']} clients alive at once, each with its own {c.get('token_bytes', '?')}-byte token "
                   f"(VmRSS and Threads from /proc/self/status)")
        out.append(table(["stage", "RSS MiB", "OS threads"], rows))
        growth_created = mib(c["rss_kb_all_created"] - c["rss_kb_one_client"])
        growth_sent = mib(c["rss_kb_all_sent"] - c["rss_kb_one_client"])
        growth = max(growth_created, growth_sent)
        per_client = growth * 1024 * 1024 / c["clients"]
        threads_ok = c["threads_all_created"] == c["threads_one_client"] == c["threads_all_sent"]
        out.append(f"growth over 1 client: {growth_created:.1f} MiB created, {growth_sent:.1f} MiB after each sent "
                   f"(~{per_client:.0f} bytes per client); create {c['create_us_per_client']:.1f} us/client, "
                   f"send {c['send_us_per_client']:.1f} us/client, failures {c['failures']}")
        out.append(f"growth < 20 MiB: {verdict(growth < 20)}   no threads per client: {verdict(threads_ok)}")
        summary["scale"]["clients"] = dict(c, growth_mib_created=round(growth_created, 2),
                                           growth_mib_sent=round(growth_sent, 2),
                                           bytes_per_client=round(per_client),
                                           growth_pass=growth < 20, threads_pass=threads_ok)

    # 4. cold start
    cold = group(records, "cold")
    if cold:
        out.append("\n### 4. Cold start: process start (exec) to the first completed send")
        summary["cold"] = {}
        for case, impls in cold.items():
            official = impls.get("py_official", [{}])[0].get("p50_us")
            rows = []
            for impl, recs in impls.items():
                r = recs[0]
                vs = f"{official / r['p50_us']:.1f}x" if official and impl != "py_official" else "-"
                rd = r.get("ready_p50_us", -1)
                rows.append([impl, f"{rd / 1000:.1f}" if rd >= 0 else "-", f"{r['p50_us'] / 1000:.1f}",
                             f"{r['p99_us'] / 1000:.1f}", f"{r['exit_p50_us'] / 1000:.1f}", r["n"], vs])
                summary["cold"].setdefault(case, {})[impl] = {"first_send_p50_ms": r["p50_us"] / 1000,
                                         "first_send_p99_ms": r["p99_us"] / 1000,
                                         "client_ready_p50_ms": rd / 1000 if rd >= 0 else None,
                                         "exit_p50_ms": r["exit_p50_us"] / 1000, "runs": r["n"]}
            out.append(f"\n{case}")
            out.append(table(["impl", "client ready p50 ms", "first send p50 ms", "p99 ms",
                              "to exit p50 ms", "runs", "faster than official"], rows))

    # 5. size
    size = group(records, "size")
    if size:
        out.append("\n### 5. Size")
        rows = []
        summary["size"] = {}
        for case, impls in size.items():
            for impl, recs in impls.items():
                r = recs[0]
                unstripped = r.get("bytes_unstripped")
                rows.append([case, f"{r['bytes'] / 1024 / 1024:.2f}",
                             f"{unstripped / 1024 / 1024:.2f}" if unstripped else "-"])
                summary["size"][case] = {"bytes": r["bytes"], "bytes_unstripped": unstripped}
        out.append(table(["file", "stripped MiB (.a: --strip-debug)", "as built MiB"], rows))

    text = "\n".join(out)
    print(text)
    with open(args.results, "w", encoding="utf-8") as f:
        json.dump({"generated": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                   "quick": args.quick == "1", "machine": mach, "checks": checks,
                   "summary": summary, "records": records}, f, indent=2)
    print(f"\nresults: {args.results}")


if __name__ == "__main__":
    main()
