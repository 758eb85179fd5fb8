"""`python -m liif {train,upscale,info,eval,bench,card,check,zoom}`: everything the demo does, from the
command line. One module per group of commands; each `add_*` adds its subcommand's parser."""

import argparse
import sys

from liif.cli.common import STARTED  # noqa: F401  (first: a time box starts when the command does)
from liif.cli.evaluation import add_bench, add_card, add_eval
from liif.cli.lessons import add_check, add_zoom
from liif.cli.training import add_train
from liif.cli.upscale import add_info, add_upscale

COMMANDS = (add_train, add_upscale, add_info, add_eval, add_bench, add_card, add_check, add_zoom)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m liif", description="Everything the LIIF Zoom demo does, from the command line.")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in COMMANDS:
        add(sub)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:  # Ctrl-C while loading or between files: a line, not a traceback
        print("\ninterrupted", file=sys.stderr)
        return 130

