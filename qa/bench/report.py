"""The benchmark's report: the README's "Speed and scale" tables, the chart and the files.

Example::

    paths = write_reports(record, Path("reports/bench"))  # bench.json, bench.md, bench.png
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from qa.bench.latency import TARGET_K_RATIO, TARGET_P95_MS
from qa.evaluation.chart import MODE_COLOURS
from qa.types import Mode

TARGET_BUILD_GB = 6.0
"""Issue 15: building a million passages peaks under this resident memory."""


def format_markdown(record: dict[str, Any]) -> str:
    """The tables of the README's "Speed and scale" section."""
    m = record["machine"]
    first = record["model"]["options"][0]["passages_per_second"]
    lines = [
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB RAM, Python {m['python']}.",
        f"Real model throughput: {record['model']['passages_per_second']:.1f} passages/s"
        f" (all-MiniLM-L6-v2, INT8 export, on CPU, sample of {record['model']['sample']}"
        " passages).",
        "Passages are embedded by the synthetic embedder; *real embed* is the time the real"
        " model would take, extrapolated from its measured throughput.",
        "",
        f"Embedding options timed at a 1-minute load average of"
        f" {record['model']['load_average']:.1f} on {m['cores']} cores.",
        "",
        "| embedding option | passages/s | × the first | passages per CPU-second"
        " | lowest cosine to the first option |",
        "|---|---:|---:|---:|---:|",
        *(
            f"| {o['name']} | {o['passages_per_second']:.2f}"
            f" | {o['passages_per_second'] / first:.2f}"
            f" | {o['cpu_passages_per_second']:.1f}"
            f" | {'—' if o['agreement'] is None else format(o['agreement'], '.4f')} |"
            for o in record["model"]["options"]
        ),
        "",
        *format_questions(record),
        "| passages | read+chunk s | embed s (synthetic) | real embed s (extrapolated) | lexical s"
        " | vector index s | save s | passages/s (excl. real embed) | index MB | build RSS MB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in record["sizes"]:
        b, stages = r["build"], r["build"]["stages"]
        cells = [
            f"{b['passages']:,}",
            *(f"{stages.get(s, 0.0):.1f}" for s in ("read_chunk", "embed")),
            f"{r['real_embed_seconds']:,.0f}",
            *(f"{stages.get(s, 0.0):.1f}" for s in ("lexical", "vector_index", "save")),
            f"{b['passages'] / max(b['seconds'], 1e-9):,.0f}",
            f"{b['index_bytes'] / 1e6:,.1f}",
            f"{b['peak_rss_mb']:,.0f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Query latency over {record['queries']} queries per mode, ms (p50 / p95 / p99), query"
        " embedding included; rank-bm25 timed on the first queries only:",
        "",
        "| passages | load s | serve RSS MB | lexical | dense | hybrid | dense index"
        " | recall@10 vs exact | our BM25 ms | rank-bm25 ms | speed-up | max score difference |",
        "|---:|---:|---:|---|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in record["sizes"]:
        s, x, d = r["serve"], r["lexical"], r["dense"]
        latency = " | ".join(
            "{p50_ms:.1f} / {p95_ms:.1f} / {p99_ms:.1f}".format(**s["latency"][mode])
            for mode in ("lexical", "dense", "hybrid")
        )
        dense = f"{d['kind']} | {d['recall_at_10']:.4f}" if d else "not measured | –"
        lexical = (
            f"{x['ours_ms']:.2f} | {x['rank_bm25_ms']:.1f} | {x['speedup']:,.0f}×"
            f" (n={x['queries']}) | {x['max_difference']:.1e}"
            if x
            else "– | not measured | – | –"
        )
        lines.append(
            f"| {r['build']['passages']:,} | {s['load_seconds']:.2f} | {s['peak_rss_mb']:,.0f}"
            f" | {latency} | {dense} | {lexical} |"
        )
    if any(r.get("milvus") for r in record["sizes"]):
        lines += ["", *_backend_table(record)]
    lines += ["", *format_targets(record)]
    return "\n".join(lines).rstrip() + "\n"


def format_questions(record: dict[str, Any]) -> list[str]:
    """The single-question tables (qa.bench.latency): totals, then each stage's p50 / p95."""
    figures = record.get("questions")
    if not figures:
        return []
    runs = figures["runs"]
    before, after = figures["load_average"]
    stages = list(dict.fromkeys(name for run in runs for name in run["stages"]))
    lines = [
        f"One question on the shipped corpus ({figures['corpus']}), the default pipeline end to"
        " end through `Searcher.search`, model and index loaded:"
        f" {figures['questions']} reference questions × {figures['rounds']} rounds after an"
        f" untimed round; 1-minute load average {before:.1f} before, {after:.1f} after, on"
        f" {record['machine']['cores']} cores.",
        "",
        "| asked | p50 ms | p95 ms | p99 ms |",
        "|---|---:|---:|---:|",
    ]
    for run in runs:
        total = run["total"]
        lines.append(
            f"| {_asked(run['setting'])} | {total['p50_ms']:.1f} | {total['p95_ms']:.1f}"
            f" | {total['p99_ms']:.1f} |"
        )
    lines += [
        "",
        "Each stage, ms (p50 / p95; 0 where a question skips it):",
        "",
        "| asked | " + " | ".join(stages) + " |",
        "|---|" + "---:|" * len(stages),
    ]
    for run in runs:
        cells = [
            "{p50_ms:.1f} / {p95_ms:.1f}".format(**run["stages"][name])
            if name in run["stages"]
            else "–"
            for name in stages
        ]
        lines.append(f"| {_asked(run['setting'])} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _asked(setting: dict[str, Any]) -> str:
    return f"k = {setting['k']}" + ("" if setting["answer"] else ", no answer")


def format_targets(record: dict[str, Any]) -> list[str]:
    """Issue 15's and 16's speed and memory targets against what this run measured."""
    lines = ["| target | measured |", "|---|---|"]
    options = record["model"]["options"]
    default = next((o for o in options if "the default" in o["name"]), None)
    if default is not None:
        ratio = default["passages_per_second"] / options[0]["passages_per_second"]
        lines.append(f"| embedding throughput ≥ 2× the fp32 reference | {ratio:.2f}× |")
    figures = record.get("questions")
    if figures:
        first, large = figures["runs"][0], figures["runs"][1]
        p95 = first["total"]["p95_ms"]
        lines.append(
            f"| one question p95 < {TARGET_P95_MS:.0f} ms ({_asked(first['setting'])})"
            f" | {p95:.1f} ms |"
        )
        ratios = "; ".join(
            f"{q[:3]} {large['total'][q] / max(first['total'][q], 1e-9):.2f}×"
            for q in ("p50_ms", "p95_ms")
        )
        lines.append(
            f"| {_asked(large['setting'])} ≤ {TARGET_K_RATIO}× {_asked(first['setting'])}"
            f" | {ratios} |"
        )
    if record["sizes"]:
        largest = max(record["sizes"], key=lambda r: r["build"]["passages"])
        lines.append(
            f"| build peak RSS < {TARGET_BUILD_GB:.0f} GB at 1M passages"
            f" | {largest['build']['peak_rss_mb'] / 1024:.2f} GB at"
            f" {largest['build']['passages']:,} passages |"
        )
    return [*lines, ""] if len(lines) > 2 else []


def _backend_table(record: dict[str, Any]) -> list[str]:
    """Both backends side by side: build time, hybrid latency, dense recall against exact."""
    lines = [
        "Search backends on the same corpora (hybrid latency over"
        f" {record['queries']} queries, ms, query embedding included; recall@10 of the dense"
        " ranking against exact search):",
        "",
        "| passages | backend | build s | of which writing Milvus s | hybrid p50 / p95"
        " | dense index | recall@10 vs exact |",
        "|---:|---|---:|---:|---|---|---:|",
    ]
    for r in record["sizes"]:
        hybrid, dense = r["serve"]["latency"]["hybrid"], r["dense"]
        lines.append(
            f"| {r['build']['passages']:,} | embedded | {r['build']['seconds']:.1f} | –"
            f" | {hybrid['p50_ms']:.1f} / {hybrid['p95_ms']:.1f}"
            f" | {dense['kind'] if dense else '–'}"
            f" | {format(dense['recall_at_10'], '.4f') if dense else '–'} |"
        )
        milvus = r.get("milvus")
        if milvus:
            lines.append(
                f"| {r['build']['passages']:,} | milvus | {milvus['seconds']:.1f}"
                f" | {milvus['stages'].get('milvus', 0.0):.1f}"
                f" | {milvus['hybrid']['p50_ms']:.1f} / {milvus['hybrid']['p95_ms']:.1f}"
                f" | {milvus['dense_kind']} | {milvus['recall_at_10']:.4f} |"
            )
    return lines


def write_chart(record: dict[str, Any], path: Path) -> None:
    """Latency percentiles per mode and peak memory against N, on log axes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    sizes = [r["build"]["passages"] for r in record["sizes"]]
    figure = Figure(figsize=(11, 4.2), dpi=150, layout="constrained")
    FigureCanvasAgg(figure)
    left, right = figure.subplots(1, 2)
    for mode in Mode:
        for quantile, style in (("p50_ms", ":"), ("p95_ms", "-"), ("p99_ms", "--")):
            values = [r["serve"]["latency"][mode][quantile] for r in record["sizes"]]
            left.plot(
                sizes,
                values,
                style,
                marker="o",
                color=MODE_COLOURS[mode],
                label=f"{mode} {quantile[:3]}",
            )
    left.set_title("Query latency (query embedding included)", fontsize=10)
    left.set_ylabel("ms")
    for label, key, colour in (
        ("build", "build", "#8172B3"),
        ("serve", "serve", "#C44E52"),
    ):
        values = [r[key]["peak_rss_mb"] for r in record["sizes"]]
        right.plot(sizes, values, marker="o", color=colour, label=f"peak RSS, {label}")
    right.set_title("Peak memory", fontsize=10)
    right.set_ylabel("MB")
    for axes in (left, right):
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.set_xlabel("passages")
        axes.grid(which="both", linewidth=0.4, alpha=0.5)
    right.legend(fontsize=7, loc="upper left")
    figure.legend(
        *left.get_legend_handles_labels(), loc="outside lower center", ncols=9, fontsize=7
    )
    m = record["machine"]
    figure.suptitle(
        f"qa bench · {m['cpu']}, {m['cores']} cores · {record['created_at']}",
        fontsize=9,
        color="#555555",
    )
    figure.savefig(path)


def write_reports(record: dict[str, Any], out: Path) -> list[Path]:
    """Write bench.json, bench.md and bench.png into ``out``; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "bench.json", out / "bench.md", out / "bench.png"]
    paths[0].write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    paths[1].write_text(format_markdown(record), encoding="utf-8")
    write_chart(record, paths[2])
    return paths
