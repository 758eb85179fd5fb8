"""The one folder of this server where everything visitors leave goes (uploads, Gradio's cache, the
files made for download): kept for a visit, pruned by age, removed at exit, and removed at the next start
when a server was killed."""

import os
import shutil
import tempfile
import time
from pathlib import Path

from PIL import Image

from liif.render import imageio

# How long the files made for downloads are kept (seconds); the page's cache uses the same age.
OUTPUT_MAX_AGE = 1800


class OutputFolder:
    """This server's private temporary folder: the PNGs offered for download and, when the page points
    Gradio's cache here ($GRADIO_TEMP_DIR), the uploads and the pictures the page shows, so each file is
    stored once and one folder holds everything a visitor left.

    Files older than OUTPUT_MAX_AGE seconds are removed whenever a new one is written (the page's cache is
    cleaned on the same schedule), the folder is removed when the app exits, and a folder left by a
    server that was killed is removed by the next one to start (`remove_leftovers`): its name carries
    the process id that made it.
    """

    PREFIX = "liif-zoom-"

    def __init__(self, parent=None):
        self.root = Path(tempfile.mkdtemp(prefix=f"{self.PREFIX}{os.getpid()}-", dir=parent))
        self.downloads = self.root / "downloads"
        self.downloads.mkdir()

    def save(self, image: Image.Image, filename: str) -> Path:
        return imageio.save_png(image, self.new_path(filename))

    def preview_png(self, rgb) -> str:
        """A picture the page shows while a run works, as a PNG written with zlib's level 1: the same
        pixels as Gradio's own PNG of the array (level 6), ~5x faster (512x512: ~20 ms against ~0.1 s,
        measured), and the encoder is working beside it on the same cores."""
        path = self.new_path("preview.png")
        Image.fromarray(rgb).save(path, compress_level=1)
        return str(path)

    def new_path(self, filename: str) -> Path:
        """A fresh path for a download (in its own folder: same names never collide), pruned like the rest."""
        self.prune()
        return Path(tempfile.mkdtemp(dir=self.downloads)) / filename

    def prune(self) -> None:
        cutoff = time.time() - OUTPUT_MAX_AGE
        for folder in self.downloads.iterdir():
            try:
                if folder.stat().st_mtime < cutoff:
                    shutil.rmtree(folder, ignore_errors=True)
            except FileNotFoundError:
                pass  # another thread removed it first

    def size_bytes(self) -> int:
        """Bytes held in the folder now (uploads, cached pictures, downloads)."""
        total = 0
        for dirpath, _, filenames in os.walk(self.root):
            for filename in filenames:
                try:
                    total += os.lstat(os.path.join(dirpath, filename)).st_size
                except OSError:
                    pass  # removed meanwhile
        return total

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    @classmethod
    def remove_leftovers(cls, parent=None) -> list:
        """Remove the folders of servers that are no longer running (a crash, SIGKILL, a power cut),
        in `parent` (default: the system's temporary folder). Returns what was removed."""
        parent = Path(parent or tempfile.gettempdir())
        removed = []
        for folder in parent.glob(f"{cls.PREFIX}*"):
            owner = folder.name[len(cls.PREFIX):].split("-", 1)[0]
            if not folder.is_dir() or folder.is_symlink():
                continue
            # An older server's folder without a process id goes only once it has expired.
            if _process_alive(int(owner)) if owner.isdigit() else time.time() - folder.stat().st_mtime < OUTPUT_MAX_AGE:
                continue
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
        return removed


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process
    return True
