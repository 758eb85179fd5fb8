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
