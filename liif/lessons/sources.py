"""The works the page cites, each as what it is: LIIF, the model the page runs (at the end of the answer), and
DA-Fusion and Instance-Level Augmentations, two ways to widen a model's training data (in step 3, "what it has
seen decides what it draws"). Nothing else is cited."""

LIIF_ARXIV = "https://arxiv.org/abs/2012.09161"
LIIF_CODE = "https://github.com/yinboc/liif"
DA_FUSION_ARXIV = "https://arxiv.org/abs/2302.07944"
DA_FUSION_CODE = "https://github.com/brandontrabucco/da-fusion"
INSTANCE_AUG_ARXIV = "https://arxiv.org/abs/2406.08249"
INSTANCE_AUG_CODE = "https://github.com/KupynOrest/instance_augmentation"


def sources_markdown() -> str:
    """The model's paper, at the end of the answer: the one work the page runs."""
    return (
        "### The paper\n"
        f"**LIIF**: Chen, Liu and Wang, *Learning Continuous Image Representation with Local Implicit Image "
        f"Function* ([arXiv:2012.09161]({LIIF_ARXIV}), [code]({LIIF_CODE})). The method this page runs: an encoder "
        "and a decoder that can be asked for the colour at any continuous coordinate, which is what makes any "
        "scale possible. (The bicubic residual is this project's addition.)"
    )


def augmentation_markdown() -> str:
    """The two data-augmentation works, where the page says that what a model has seen decides what it draws
    (step 3): one sentence on what augmentation is for, and, folded, what each does to a training set, for
    which tasks, and that neither is an upscaler."""
    return (
        "A model can only draw what its training pictures taught it; *data augmentation* widens what it has seen "
        "without new photos.\n\n"
        "<details><summary>Two papers on widening training data (neither is an upscaler)</summary>\n\n"
        f"- **DA-Fusion**: Trabucco et al., *Effective Data Augmentation With Diffusion Models* "
        f"([arXiv:2302.07944]({DA_FUSION_ARXIV}), [code]({DA_FUSION_CODE})). Adds variations of an image "
        "classifier's training images, made by a text-to-image diffusion model.\n"
        "- **Instance-Level Augmentations**: Kupyn and Rupprecht, *Dataset Enhancement with Instance-Level "
        f"Augmentations* ([arXiv:2406.08249]({INSTANCE_AUG_ARXIV}), [code]({INSTANCE_AUG_CODE})). Redraws "
        "individual objects in detection and segmentation training photos with a diffusion model, keeping the "
        "scene's layout; it can redraw people to anonymise them.\n\n"
        "Both are ways to train recognition models, not upscalers; the two models compared here were trained "
        "without them, on flips and transposes of their pictures.\n\n</details>"
    )
