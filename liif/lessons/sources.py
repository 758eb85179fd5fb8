"""The works the page cites, and what each has to do with the question: LIIF, DA-Fusion, Instance-Level
Augmentations. Nothing else is cited."""

LIIF_ARXIV = "https://arxiv.org/abs/2012.09161"
LIIF_CODE = "https://github.com/yinboc/liif"
DA_FUSION_ARXIV = "https://arxiv.org/abs/2302.07944"
DA_FUSION_CODE = "https://github.com/brandontrabucco/da-fusion"
INSTANCE_AUG_ARXIV = "https://arxiv.org/abs/2406.08249"
INSTANCE_AUG_CODE = "https://github.com/KupynOrest/instance_augmentation"


def sources_markdown() -> str:
    return (
        "### Papers and tools\n"
        f"- **LIIF**: Chen, Liu and Wang, *Learning Continuous Image Representation with Local Implicit "
        f"Image Function* ([arXiv:2012.09161]({LIIF_ARXIV}), [code]({LIIF_CODE})). The method this page runs: "
        "an encoder and a decoder that can be asked for the colour at any continuous coordinate, which is what "
        "makes any scale possible. (The bicubic residual is this project's addition.)\n"
        f"- **DA-Fusion**: Trabucco et al., *Effective Data Augmentation With Diffusion Models* "
        f"([arXiv:2302.07944]({DA_FUSION_ARXIV}), [code]({DA_FUSION_CODE})). Widens the training set of an image "
        "classifier by having a text-to-image diffusion model make new variations of its real images.\n"
        f"- **Instance-Level Augmentations**: Kupyn and Rupprecht, *Dataset Enhancement with Instance-Level "
        f"Augmentations* ([arXiv:2406.08249]({INSTANCE_AUG_ARXIV}), [code]({INSTANCE_AUG_CODE})). Widens training "
        "data for detection and segmentation by redrawing individual objects in existing photos with a "
        "diffusion model while keeping the scene's layout; the same redrawing can anonymise the people in them."
    )


def widening_what_was_seen() -> str:
    """One sentence on the two diffusion works where the page talks about training data: what they do to a
    training set, for which tasks, and that they are not upscalers."""
    return (
        f"Widening what a model has seen is what [DA-Fusion]({DA_FUSION_ARXIV}) and [Instance-Level "
        f"Augmentations]({INSTANCE_AUG_ARXIV}) do: they add diffusion-edited copies of a model's own training "
        "images to its training set (DA-Fusion edits whole images, for few-shot classification; Instance-Level "
        "Augmentations repaints object instances, for detection and segmentation, and can repaint people to "
        "anonymise them). Neither is an upscaler, and neither model here was trained with them.")
