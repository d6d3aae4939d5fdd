"""How far a drive sync has got, in counts and in words: carried from the sync
(connectors/services/files.py) to its task run as a plain dict, and read back by the
connections page and `manage.py connector_sync`.

The time left is the work still to do at the pace so far: by bytes when the listing
gave file sizes (a big PDF takes longer than a note), else by files. Until enough is
done for a pace to mean something it says "estimating…" rather than a wild guess.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields

from connectors.documents.results import SkipReason
from connectors.selectors import plural

# Before this much work is done, a pace is mostly noise (the first file's download,
# a model warming up): no estimate yet.
ESTIMATE_MIN_SECONDS = 3.0
ESTIMATE_MIN_FILES = 3
ESTIMATE_MIN_SHARE = 0.02  # of the work to do (bytes or files)

SKIP_WORDS: dict[str, str] = {
    SkipReason.TOO_LARGE: "too large",
    SkipReason.UNSUPPORTED_TYPE: "unsupported type",
    SkipReason.NO_TEXT: "no text",
    SkipReason.ENCRYPTED: "encrypted",
    SkipReason.CORRUPT: "damaged",
    SkipReason.TIMEOUT: "took too long",
    SkipReason.ARCHIVE_BOMB: "suspicious archive",
}


@dataclass
class SyncProgress:
    """One drive sync's counts so far. `total` is the files it has to read (listed ones
    whose revision moved); `done` how many of those it has been through."""

    stage: str = "listing"  # "listing", "reading", "finished"
    seen: int = 0  # files listed
    total: int = 0
    done: int = 0
    indexed: int = 0
    unchanged: int = 0
    moved: int = 0
    skipped: int = 0
    skip_reasons: dict[str, int] = field(default_factory=dict)  # SkipReason code -> files
    failed: int = 0
    chunks_embedded: int = 0
    bytes_total: int = 0  # of the files to read, as listed
    bytes_done: int = 0
    elapsed_s: float = 0.0  # spent reading (listing excluded)
    eta_s: float | None = None  # None: not enough done to say

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> SyncProgress | None:
        if not data:
            return None
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})

    def estimate(self) -> None:
        self.eta_s = seconds_left(
            elapsed_s=self.elapsed_s,
            files_done=self.done,
            files_total=self.total,
            bytes_done=self.bytes_done,
            bytes_total=self.bytes_total,
        )


Watch = Callable[[SyncProgress], object]  # hears each step of a drive sync


def seconds_left(
    *, elapsed_s: float, files_done: int, files_total: int, bytes_done: int = 0,
    bytes_total: int = 0,
) -> float | None:  # fmt: skip
    """Seconds still to go at the pace so far, or None while there is too little to go
    on. 0 once everything is done."""
    if files_total <= 0 or files_done >= files_total:
        return 0.0
    if bytes_total > 0:
        done, total = min(bytes_done, bytes_total), bytes_total
    else:
        done, total = files_done, files_total
    enough = (
        elapsed_s >= ESTIMATE_MIN_SECONDS
        and files_done >= min(ESTIMATE_MIN_FILES, files_total)
        and done >= total * ESTIMATE_MIN_SHARE
        and done > 0
    )
    if not enough:
        return None
    return elapsed_s / done * (total - done)


def time_left_words(seconds: float | None) -> str:
    """ "about 2 min left", "under a minute left", "estimating…" (None)."""
    if seconds is None:
        return "estimating time left…"
    if seconds < 60:
        return "under a minute left"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"about {minutes} min left"
    hours, minutes = divmod(minutes, 60)
    return f"about {hours} h {minutes:02d} min left" if minutes else f"about {hours} h left"


def skip_words(reasons: dict[str, int]) -> str:
    """ "8 too large, 4 unsupported type", most frequent first."""
    ordered = sorted(reasons.items(), key=lambda item: (-item[1], item[0]))
    return ", ".join(f"{count:,} {SKIP_WORDS.get(code, code)}" for code, count in ordered)


def progress_parts(progress: SyncProgress) -> list[str]:
    """The counts worth saying, in order: "412 of 1,000 files read", "380 indexed", ..."""
    if progress.stage == "listing":
        return ["looking for changes…"]
    noun = "file" if progress.total == 1 else "files"
    parts = [f"{progress.done:,} of {progress.total:,} {noun} read"]
    if progress.unchanged:
        parts.append(f"{progress.unchanged:,} unchanged")
    parts.append(f"{progress.indexed:,} indexed")
    if progress.moved:
        parts.append(f"{progress.moved:,} moved")
    if progress.skipped:
        parts.append(f"{progress.skipped:,} skipped ({skip_words(progress.skip_reasons)})")
    if progress.failed:
        parts.append(f"{progress.failed:,} failed")
    parts.append(plural(progress.chunks_embedded, "passage") + " embedded")
    if progress.stage == "reading" and progress.done < progress.total:
        parts.append(time_left_words(progress.eta_s))
    return parts


def progress_line(progress: SyncProgress) -> str:
    """ "412 of 1,000 files read · 380 indexed · 12 skipped (12 too large) · 4,210
    passages embedded · about 2 min left" """
    return " · ".join(progress_parts(progress))
