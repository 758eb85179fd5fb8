"""`python -m liif {upscale,info,train,eval,bench}`: everything the demo does, from the command line."""

import argparse
import sys


def _add_train(sub):
    p = sub.add_parser("train", help="train a LIIF model on folders of photos")
    p.add_argument("--data", nargs="+", help="image folders, e.g. ../shared/data/train/natural")
    p.add_argument("--config", help="YAML file of training options (see configs/)")
    p.add_argument("--name", help="run name: checkpoints in runs/NAME/, weights in weights/NAME.safetensors")
    p.add_argument("--encoder", choices=["edsr-baseline", "rdn"])
    p.add_argument("--residual", choices=["bicubic", "none"])
    p.add_argument("--steps", type=int, help="planned optimiser steps (the schedule ends there)")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float, help="peak learning rate (Adam)")
    p.add_argument("--schedule", choices=["onecycle", "paper", "constant"])
    p.add_argument("--warmup-steps", type=int)
    p.add_argument("--val-every", type=int)
    p.add_argument("--ckpt-every", type=int)
    p.add_argument("--holdout", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"])
    p.add_argument("--precision", choices=["auto", "fp32", "bf16"])
    p.add_argument("--runs-dir")
    p.add_argument("--export", help="weights file to write at the end")
    p.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint of this run")
    p.add_argument("--max-steps-this-session", type=int, help="stop (with a checkpoint) after this many steps")
    p.set_defaults(func=_run_train)


def _run_train(args):
    from liif.train import TrainConfig, train

    options = {k: getattr(args, k) for k in (
        "data", "name", "encoder", "residual", "steps", "batch_size", "lr", "schedule", "warmup_steps",
        "val_every", "ckpt_every", "holdout", "seed", "device", "precision", "runs_dir", "export")}
    cfg = TrainConfig.from_sources(args.config, **options)
    if not cfg.data:
        raise SystemExit("error: give training images with --data DIR (or `data:` in the --config file)")
    train(cfg, resume=not args.fresh, max_steps_this_session=args.max_steps_this_session)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m liif", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _add_train(sub)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
