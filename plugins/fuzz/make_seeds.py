"""Writes the fuzz targets' seed corpora (``seeds/<target>/``): real-looking files.

Every layout the README lists (``UTC time`` with ``+00:00`` stamps, Dukascopy
``Gmt time`` ``dd.mm.yyyy hh:mm:ss.fff``, ``time``/``timestamp``/``date``/
``datetime`` columns, an unnamed first index column, HistData's compact
stamps), with byte order marks, CRLF, quoted fields, semicolons and tabs,
blank lines, an empty file and a header only. Run from anywhere:
``python3 plugins/fuzz/make_seeds.py`` (it rewrites the seed directories).
"""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEEDS = HERE / "seeds"
OHLCV = ["Open", "High", "Low", "Close", "Volume"]


def rows(stamps: list[str], sep: str = ",", quote: bool = False, index: bool = False) -> list[str]:
    out = []
    for k, stamp in enumerate(stamps):
        values = [f"{1.0842 + k * 0.0003:.5f}", f"{1.0849 + k * 0.0003:.5f}",
                  f"{1.0838 + k * 0.0003:.5f}", f"{1.0845 + k * 0.0003:.5f}", f"{120.5 + k:g}"]  # fmt: skip
        fields = [stamp, *values]
        if quote:
            fields = [f'"{f}"' for f in fields]
        if index:
            fields = [str(k), *fields]
        out.append(sep.join(fields))
    return out


def utc_stamps(n: int, offset: str = "+00:00") -> list[str]:
    return [f"2025-03-24 {h:02d}:{m:02d}:00{offset}" for h in range(24) for m in range(0, 60, 5)][
        :n
    ]


def csv_files() -> dict[str, bytes]:
    n = 12
    gmt = [f"24.03.2025 {h:02d}:{m:02d}:00.000" for h in range(2) for m in range(0, 60, 5)][:n]
    iso = [f"2025-03-24T{h:02d}:{m:02d}:00Z" for h in range(2) for m in range(0, 60, 5)][:n]
    naive = [f"2025-03-24 {h:02d}:{m:02d}:00" for h in range(2) for m in range(0, 60, 5)][:n]
    compact = [f"20250324 {h:02d}{m:02d}00" for h in range(2) for m in range(0, 60, 5)][:n]
    mt4 = [f"2025.03.24 {h:02d}:{m:02d}" for h in range(2) for m in range(0, 60, 5)][:n]
    dates = [f"2025-03-{d:02d}" for d in range(10, 10 + n)]

    def text(header: list[str], body: list[str], sep: str = ",", nl: str = "\n") -> str:
        return nl.join([sep.join(header), *body]) + nl

    files = {
        "utc_time.csv": text(["UTC time", *OHLCV], rows(utc_stamps(n))),
        "utc_time_offsets.csv": text(["UTC time", *OHLCV], rows(utc_stamps(n, "+02:00"))),
        "gmt_time.csv": text(["Gmt time", *OHLCV], rows(gmt)),
        "time_iso_z.csv": text(["time", *[c.lower() for c in OHLCV]], rows(iso)),
        "timestamp_naive.csv": text(["timestamp", *OHLCV], rows(naive)),
        "date_daily.csv": text(["Date", *OHLCV], rows(dates)),
        "datetime_mt4.csv": text(["DateTime", *OHLCV[:4], "Tick Volume"], rows(mt4)),
        "compact_histdata.csv": text(["datetime", *OHLCV], rows(compact, sep=";"), sep=";"),
        "unnamed_index.csv": text(["", *OHLCV], rows(naive, index=False)),
        "pandas_index.csv": text(["Unnamed: 0", "time", *OHLCV], rows(naive, index=True)),
        "semicolon_crlf.csv": text(["UTC time", *OHLCV], rows(utc_stamps(n), ";"), ";", "\r\n"),
        "tab.csv": text(["time", *OHLCV], rows(naive, "\t"), "\t"),
        "quoted.csv": text([f'"{c}"' for c in ["UTC time", *OHLCV]], rows(utc_stamps(n), quote=True)),
        "reordered_extra.csv": text(
            ["Volume", "Close", "Symbol", "Low", "High", "Open", "time"],
            [
                f'{120 + k},1.0845,"EUR,USD",1.0838,1.0849,1.0842,{s}'
                for k, s in enumerate(naive)
            ],
        ),
        "blank_lines_no_final_newline.csv": text(["UTC time", *OHLCV], rows(utc_stamps(n)))
        .replace("\n", "\n\n", 3)
        .rstrip("\n"),
        "header_only.csv": "UTC time,Open,High,Low,Close,Volume\n",
        "header_only_no_newline.csv": "UTC time,Open,High,Low,Close,Volume",
        "empty.csv": "",
        "exponents_nan.csv": text(["time", *OHLCV], ["2025-03-24 00:00,1e0,1.2E+00,NaN,inf,-0"]),
    }
    out = {name: body.encode() for name, body in files.items()}
    out["bom_utc_time.csv"] = b"\xef\xbb\xbf" + out["utc_time.csv"]
    out["bom_crlf_gmt.csv"] = b"\xef\xbb\xbf" + files["gmt_time.csv"].replace("\n", "\r\n").encode()
    out["cp1252_symbol.csv"] = text(
        ["time", *OHLCV, "Comment"], [r + ",caf\xe9" for r in rows(naive)]
    ).encode("cp1252")
    return out


LAYOUTS = {  # file -> (separator, time index, value indices)
    "utc_time.csv": (",", 0, [1, 2, 3, 4, 5]),
    "gmt_time.csv": (",", 0, [1, 2, 3, 4, 5]),
    "semicolon_crlf.csv": (";", 0, [1, 2, 3, 4, 5]),
    "tab.csv": ("\t", 0, [1, 2, 3, 4, 5]),
    "quoted.csv": (",", 0, [1, 2, 3, 4, 5]),
    "pandas_index.csv": (",", 1, [2, 3, 4, 5, 6]),
    "reordered_extra.csv": (",", 6, [5, 4, 3, 1, 0]),
    "bom_crlf_gmt.csv": (",", 0, [1, 2, 3, 4, 5]),
    "empty.csv": (",", 0, [1, 2, 3, 4, 5]),
    "header_only.csv": (",", 0, [1, 2, 3, 4, 5]),
}

TIMESTAMPS = [
    "2025-03-24 00:05:00+00:00",
    "2025-03-24 01:05:00+01:00",
    "2025-03-23 19:05:00-05:00",
    "2025-03-24T00:05:00Z",
    "2025-03-24 00:05:00 UTC",
    "2025-03-24 00:05:00 GMT",
    "2025-03-24 00:05:00+0000",
    "2025-03-24 00:05:00+01",
    "24.03.2025 00:05:00.000",
    "24.03.2025 00:05:01.250",
    "2025.03.24 00:05",
    "2025/03/24 00:05:00",
    "20250324 000500",
    "20250324 00:05:00",
    "2025-03-24",
    "2025-03-24 00:05:00.123456789",
    "2025-03-24 00:05:00,5",
    "1969-12-31 23:59:59",
    "0001-01-01 00:00:00",
    "9999-12-31 23:59:59.999999-23:59",
    "2024-02-29 12:00",
    "  2025-03-24 00:05  ",
    "",
]


def main() -> None:
    shutil.rmtree(SEEDS, ignore_errors=True)
    files = csv_files()
    reader = SEEDS / "csv_reader"
    reader.mkdir(parents=True)
    for name, data in files.items():
        (reader / name).write_bytes(data)
    layout = SEEDS / "csv_layout"
    layout.mkdir(parents=True)
    for name, (sep, time, values) in LAYOUTS.items():
        head = sep.encode() + struct.pack("<6I", time, *values)
        (layout / name).write_bytes(head + files[name])
    stamps = SEEDS / "timestamps"
    stamps.mkdir(parents=True)
    for k, stamp in enumerate(TIMESTAMPS):
        (stamps / f"{k:02d}.txt").write_bytes(stamp.encode())


if __name__ == "__main__":
    main()
