"""`python -m liif train`: the training loop (liif/training/) from flags and configs/*.yaml."""

from dataclasses import fields

from liif.cli.common import STARTED, fail


def add_train(sub):
    from liif.core import encoders

    p = sub.add_parser("train", help="train a LIIF model on folders of photos")
    p.add_argument("--data", nargs="+", help="image folders, e.g. ../shared/data/train/natural")
    p.add_argument("--config", help="YAML file of training options (see configs/)")
    p.add_argument("--name", help="run name: checkpoints in runs/NAME/, weights in weights/NAME.safetensors")
    p.add_argument("--encoder", choices=list(encoders.ENCODERS))
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
    p.add_argument("--init", metavar="WEIGHTS",
                   help="start from these weights (rdn, edsr-baseline, ours or the authors' .pth) with a fresh "
                        "optimiser and schedule; the encoder and residual mode come from the file")
    p.add_argument("--minutes", type=float, metavar="M",
                   help="time box: measure the step time after a warm-up and plan --steps so the run ends, "
                        "validated and exported, M minutes after it starts")
    p.add_argument("--compile", nargs="?", const="default", metavar="MODE",
                   help="torch.compile the model: default (plain --compile), reduce-overhead (adds CUDA graphs), "
                        "max-autotune or off (the default); see docs/training.md for when it pays")
    p.add_argument("--jpeg-quality", metavar="LO-HI",
                   help="train on compressed inputs: save each crop's LR input as a JPEG of a random quality in "
                        "LO-HI (e.g. 30-95); the target stays the clean photo")
    p.add_argument("--jpeg-clean-share", type=float, metavar="P",
                   help="with --jpeg-quality: the share of inputs left clean (default 0.2)")
    p.add_argument("--adversarial", action="store_true", default=None,
                   help="train to look real: whole crops judged by a critic (liif/training/adversarial.py); "
                        "start from an L1 model with --init")
    p.add_argument("--crop-size", type=int, help="with --adversarial: side of the HR crops (default 96)")
    p.add_argument("--scale-min", type=float, help="smallest scale a crop is shrunk by")
    p.add_argument("--scale-max", type=float, help="largest scale a crop is shrunk by")
    p.add_argument("--face-share", type=float, metavar="P",
                   help="with --adversarial: share of crops framed on a face found by OpenCV's Haar cascade")
    p.add_argument("--faces-from", metavar="JSON",
                   help="data facts (python -m liif data-facts --json): look for faces only in the files it lists")
    for name in ("pixel", "lowpass", "adversarial", "feature"):
        p.add_argument(f"--{name}-weight", type=float, help=f"with --adversarial: weight of the {name} loss")
    p.add_argument("--critic-lr", type=float, help="with --adversarial: the critic's peak learning rate")
    p.add_argument("--ema-decay", type=float, help="with --adversarial: export a moving average of the weights")
    p.add_argument("--profile", type=int, metavar="N", default=0,
                   help="profile N training steps after a warm-up, print the top operations and stop")
    p.set_defaults(func=_run_train)


def _run_train(args):
    from liif.core.weights import WeightsError, resolve_weights
    from liif.training.config import TrainConfig
    from liif.training.loop import train

    # Every flag named as a field of TrainConfig is that field; --init is resolved to its file first.
    options = {f.name: getattr(args, f.name) for f in fields(TrainConfig) if hasattr(args, f.name) and f.name != "init"}
    try:
        if args.init:
            options["init"] = str(resolve_weights(args.init))
        cfg = TrainConfig.from_sources(args.config, **options)
    except (WeightsError, ValueError) as exc:
        return fail(str(exc), 2)
    if not cfg.data:
        raise SystemExit("error: give training images with --data DIR (or `data:` in the --config file)")
    try:
        train(cfg, resume=not args.fresh, max_steps_this_session=args.max_steps_this_session, started=STARTED,
              profile_steps=args.profile)
    except (WeightsError, FileNotFoundError) as exc:
        return fail(str(exc), 2)
    return 0
