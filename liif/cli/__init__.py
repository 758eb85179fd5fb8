"""`python -m liif {train,upscale,info,eval,bench,card,check,zoom,ladder,answers,probe,make-data,data-facts,seen,sharp}`: everything the
demo does, from the command line. One module per group of commands; each `add_*` adds its subcommand's parser."""

import argparse
import sys

from liif.cli.common import STARTED  # noqa: F401  (first: a time box starts when the command does)
from liif.cli.data import add_data_facts, add_make_data
from liif.cli.evaluation import add_bench, add_card, add_eval
from liif.cli.experiments import add_experiments
from liif.cli.training import add_train
from liif.cli.upscale import add_info, add_upscale

COMMANDS = (add_train, add_upscale, add_info, add_eval, add_bench, add_card, add_experiments, add_make_data,
            add_data_facts)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m liif", description="Everything the LIIF Zoom demo does, from the command line.")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in COMMANDS:
        add(sub)
    return parser


# Options whose value may start with "-" (a region's X0, a probe's X): argparse takes "-1,0,4,4" for an option and
# answers "expected one argument", so such a value is attached to its option ("--region=-1,0,4,4").
NEGATIVE_VALUE_OPTIONS = ("--region", "--at")


def attach_negative_values(argv: list) -> list:
    """`argv` with each `--region -X,...` written as `--region=-X,...`, so that the value reaches its own
    check (here: "the region -1,0,4,4 goes outside the image") instead of an argparse puzzle."""
    out, i = [], 0
    while i < len(argv):
        value = argv[i + 1] if i + 1 < len(argv) else ""
        if argv[i] in NEGATIVE_VALUE_OPTIONS and value[:1] == "-" and value[1:2] in tuple("0123456789."):
            out.append(f"{argv[i]}={argv[i + 1]}")
            i += 2
        else:
            out.append(argv[i])
            i += 1
    return out


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(attach_negative_values(argv))
    try:
        return args.func(args)
    except KeyboardInterrupt:  # Ctrl-C while loading or between files: a line, not a traceback
        print("\ninterrupted", file=sys.stderr)
        return 130

