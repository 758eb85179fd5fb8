"""Adversarial training: the same LIIF network taught to draw one sharp guess instead of the average.

    python -m liif train --adversarial --init weights/edsr-baseline-liif.safetensors --minutes 90 ...

`AdversarialTrainer` is the L1 `Trainer` with a critic (critic.py) beside the renderer. Each step:

1. the renderer draws whole HR crops (full_crops.py) from their shrunk inputs;
2. the critic learns to tell those renders from the real crops (relativistic average loss);
3. the renderer learns from four terms:
   - `lowpass`: L1 between the render and the real crop, both box-shrunk by 4. This pins what the input
     decides (colours, shapes, where edges are) without asking for the average of the fine detail;
   - `pixel`: a small full-resolution L1, so invented detail stays near where the real one was;
   - `adversarial`: the critic's verdict, the push toward detail that looks real;
   - `features`: feature matching on the critic's inner layers, a perceptual term learned on our photos.
4. optionally, an exponential moving average of the renderer's weights (`ema_decay`) is kept and
   exported: GAN weights wander from step to step, their average draws fewer artefacts.

`state_dict` adds the critic, its optimiser and the average to the L1 trainer's, so a resumed run is
bit-identical to an uninterrupted one, as the L1 trainer's is.
"""

import torch
import torch.nn.functional as F
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from liif.training.config import TrainConfig, learning_rate
from liif.training.critic import PatchCritic, critic_loss, feature_matching_loss, renderer_adversarial_loss
from liif.training.trainer import Trainer


class AdversarialTrainer(Trainer):
    def __init__(self, cfg: TrainConfig, rank=0, world=1):
        super().__init__(cfg, rank, world)
        if world > 1:
            raise ValueError("adversarial training runs in one process (the critic is not wrapped for DDP)")
        self.critic = PatchCritic(cfg.critic_width).to(self.device)
        # Adam with beta1 0.5: the usual choice for GANs, whose gradients change direction often.
        self.critic_optimizer = torch.optim.Adam(self.critic.parameters(), lr=cfg.critic_lr, betas=(0.5, 0.999))
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
        self.average = (AveragedModel(self.model, multi_avg_fn=get_ema_multi_avg_fn(cfg.ema_decay))
                        if cfg.ema_decay > 0 else None)

    @property
    def exported(self):
        """The renderer that is validated and exported: the moving average when there is one."""
        return self.average.module if self.average is not None else self.model

    def state_dict(self):
        state = super().state_dict()
        state["critic"] = self.critic.state_dict()
        state["critic_optimizer"] = self.critic_optimizer.state_dict()
        if self.average is not None:
            state["average"] = self.average.state_dict()
        return state

    def load_state_dict(self, state):
        super().load_state_dict(state)
        self.critic.load_state_dict(state["critic"])
        self.critic_optimizer.load_state_dict(state["critic_optimizer"])
        if self.average is not None:
            self.average.load_state_dict(state["average"])

    def _pictures(self, flat: torch.Tensor) -> torch.Tensor:
        """(B, side², 3) pixels of a full grid -> (B, 3, side, side)."""
        b, q, _ = flat.shape
        side = round(q**0.5)
        return flat.transpose(1, 2).reshape(b, 3, side, side)

    def train_step(self, batch) -> torch.Tensor:
        """One critic step and one renderer step; returns (L1, adversarial, critic) losses on the device."""
        cfg = self.cfg
        inp, coord, cell, gt = (t.to(self.device) for t in batch)
        lr_now = learning_rate(cfg, self.step)
        for group in self.optimizer.param_groups:
            group["lr"] = lr_now
        for group in self.critic_optimizer.param_groups:
            group["lr"] = cfg.critic_lr * lr_now / cfg.lr  # the same schedule, scaled
        autocast = torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16)
        with autocast:
            render = self._pictures(self.net(inp, coord, cell).float())
        real = self._pictures(gt)

        # The critic: real crops against this step's renders (no gradient into the renderer).
        with autocast:
            real_logits, _ = self.critic(real)
            fake_logits, _ = self.critic(render.detach())
        judged = critic_loss(real_logits, fake_logits)
        self.critic_optimizer.zero_grad(set_to_none=True)
        judged.backward()
        self.critic_optimizer.step()

        # The renderer: fidelity where the input decides, realism where it does not.
        with autocast:
            with torch.no_grad():
                real_logits, real_features = self.critic(real)
            fake_logits, fake_features = self.critic(render)
        adversarial = renderer_adversarial_loss(real_logits, fake_logits)
        features = feature_matching_loss(fake_features, real_features)
        pixel = F.l1_loss(render, real)
        lowpass = F.l1_loss(F.avg_pool2d(render, 4), F.avg_pool2d(real, 4))
        loss = (cfg.pixel_weight * pixel + cfg.lowpass_weight * lowpass + cfg.adversarial_weight * adversarial
                + cfg.feature_weight * features)
        self.optimizer.zero_grad(set_to_none=True)
        self.critic.zero_grad(set_to_none=True)  # the renderer's loss reached the critic too; drop that
        loss.backward()
        self.optimizer.step()
        if self.average is not None:
            self.average.update_parameters(self.model)
        self.step += 1
        return torch.stack([pixel.detach(), adversarial.detach(), judged.detach()])
