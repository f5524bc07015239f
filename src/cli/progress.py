"""Rich progress bars on stderr. A sync bar counts the bars requested (its ETA follows them) and shows the
bars actually fetched per second; a download bar counts bytes."""

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.text import Text


class BarsPerSecond(ProgressColumn):
    """Bars fetched so far (the task's `fetched` field) over the task's elapsed time."""

    def render(self, task: Task) -> Text:
        fetched = int(task.fields.get("fetched", 0))
        elapsed = task.finished_time if task.finished else task.elapsed
        rate = f"{fetched / elapsed:,.0f}" if elapsed else "-"
        return Text(f"{fetched:,} bars  {rate} bars/s", style="progress.data.speed")


def sync_progress(console: Console, *, enabled: bool = True) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        BarsPerSecond(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        disable=not enabled,
    )


def download_progress(console: Console, *, enabled: bool = True) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        disable=not enabled,
    )
