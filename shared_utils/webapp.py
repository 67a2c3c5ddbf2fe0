"""What every package's local web page shares: offline launch on a free local port, upload limits, error messages.

The pages are gradio apps (``python -m <package>.app``). Importing this module switches gradio's analytics off
*before* gradio is imported (otherwise it looks up gradio's and Hugging Face's hosts at start) and points gradio's
upload folder at a temporary folder that is removed when the process exits. ``launch`` binds 127.0.0.1 unless
``--host`` says otherwise and never creates a share link. Knows no dataset.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from shared_utils.cli import ArgumentParser, positive_int

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
_UPLOADS = tempfile.mkdtemp(prefix="visual_emotion_uploads_")
os.environ["GRADIO_TEMP_DIR"] = _UPLOADS
atexit.register(shutil.rmtree, _UPLOADS, ignore_errors=True)

DEFAULT_PORT = 7860
MAX_UPLOAD = "25mb"          # gradio refuses larger uploads before they reach our code
MAX_IMAGE_PIXELS = 40_000_000  # a larger photo is refused with a message (decoding it would take seconds and GBs)
LIMITS_TEXT = f"Uploads up to {MAX_UPLOAD.upper()}; photos up to {MAX_IMAGE_PIXELS // 1_000_000} megapixels."


def scratch_file(name: str) -> Path:
    """A path for a file the page makes (a plot), in the upload folder removed at exit."""
    return Path(tempfile.mkdtemp(dir=_UPLOADS)) / name


def app_parser(description: str, checkpoint_help: str):
    """A page's command line: ``--checkpoint``, ``--port``, ``--host`` (one-line errors, as every entry point)."""
    parser = ArgumentParser(description=description)
    add_app_args(parser, checkpoint_help)
    return parser


def add_app_args(parser, checkpoint_help: str) -> None:
    parser.add_argument("--checkpoint", default=None, help=checkpoint_help)
    parser.add_argument("--port", type=positive_int, default=DEFAULT_PORT,
                        help="first port tried (the next free one if busy)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: this machine only)")


def free_port(host: str, first: int, tries: int = 50) -> int:
    for port in range(first, first + tries):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return port
    raise SystemExit(f"error: no free port in {first}..{first + tries - 1} on {host}")


class UserInputError(Exception):
    """A problem with what the user gave (a file, a box): shown in the page as one line."""


def check_image_file(path: str | Path | None) -> Path:
    """An uploaded image: present, not empty, readable, at most MAX_IMAGE_PIXELS (checked from the header)."""
    from PIL import Image, UnidentifiedImageError

    if not path:
        raise UserInputError("no image given: upload a photo first")
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        raise UserInputError(f"{path.name}: the file is empty")
    try:
        with Image.open(path) as image:
            width, height = image.size
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise UserInputError(f"{path.name}: not an image this page can read (JPEG, PNG, BMP, WebP)") from None
    if width * height > MAX_IMAGE_PIXELS:
        raise UserInputError(f"{path.name}: {width}x{height} is {width * height / 1e6:.0f} megapixels; this page "
                             f"takes up to {MAX_IMAGE_PIXELS // 1_000_000} (resize it first)")
    return path


def guarded(handler: Callable, outputs: int) -> Callable:
    """Wrap a page handler whose last output is the status line: a user mistake (or any error a command-line
    tool would report in one line) becomes that line, with the other outputs empty, never a traceback."""
    def run(*args):
        try:
            return handler(*args)
        except UserInputError as exc:
            message = str(exc)
        except SystemExit as exc:  # the packages' one-line errors
            message = str(exc.code).removeprefix("error: ")
        except (OSError, ValueError) as exc:
            message = f"could not process the input ({type(exc).__name__}: {exc})"
        return (*([None] * (outputs - 1)), f"**Could not run:** {message}")

    run.__name__ = getattr(handler, "__name__", "run")
    run.__doc__ = handler.__doc__
    return run


def page(title: str, intro: str):
    """A ``gr.Blocks`` with the common header (title, what the page does, the upload limits)."""
    import gradio as gr

    blocks = gr.Blocks(title=title, analytics_enabled=False)
    with blocks:
        gr.Markdown(f"# {title}\n{intro}\n\n<small>{LIMITS_TEXT} Runs on this machine only; nothing is sent "
                    "anywhere.</small>")
    return blocks


def launch(blocks, args) -> None:
    # SIGTERM (a service manager, a test's teardown) ends the page like Ctrl-C, so the upload folder is removed
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    port = free_port(args.host, args.port)
    print(f"serving on http://{args.host}:{port} (Ctrl-C stops)", flush=True)
    blocks.queue(default_concurrency_limit=1).launch(
        server_name=args.host, server_port=port, share=False, max_file_size=MAX_UPLOAD, show_error=False,
        quiet=True, footer_links=["api"], ssr_mode=False, pwa=False, mcp_server=False, enable_monitoring=False)


@contextlib.contextmanager
def served(module: str, *args: str, timeout: float = 120.0):
    """``python -m <module> --port N ARGS`` (a page) in a subprocess; yields its URL once it answers, then stops
    it. For the benchmarks and the tests, which talk to the page as a browser or ``gradio_client`` would."""
    port = free_port("127.0.0.1", DEFAULT_PORT + 100)
    env = {**os.environ, "HF_HUB_DISABLE_TELEMETRY": "1", "REPRO_NO_PROGRESS": "1"}
    process = subprocess.Popen([sys.executable, "-m", module, "--port", str(port), *args], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + timeout
        while not _answers(url):
            if process.poll() is not None:
                raise SystemExit(f"error: {module} exited with {process.returncode}:\n{process.stdout.read()}")
            if time.monotonic() > deadline:
                raise SystemExit(f"error: {module} did not answer on {url} within {timeout:.0f} s")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def _answers(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False
