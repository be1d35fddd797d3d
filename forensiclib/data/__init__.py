"""The data: simulated datasets that mirror the papers', loaders for the real ones, and their storage.

- `synth`: the simulators (scenes, cameras, platforms, manipulations) and a tool that measures a platform;
- `builders`: simulated datasets like UCID social, Public social, IPLab, paper 2's task sets;
- `loaders`: the real datasets (UCID social, Public social, IPLab, Dresden, VISION, FODB);
- `datasets`: `ImageDataset` and the leakage-free splits (by source image, by device);
- `patchfile`: patches on disk, read a batch at a time;
- `photos`: the real photographs shipped with scikit-image and scikit-learn.
"""
