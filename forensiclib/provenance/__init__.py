"""Paper 1: tracing an image back to its social network of origin (Amerini, Uricchio, Caldelli 2017).

The pipeline, in the order the paper describes it:

- `jpeg`: the quantized DCT coefficients stored in a JPEG, read from the bitstream (Sec. III-A);
- `features`: 64x64 patches, nine AC modes in zig-zag order, histograms over -50..50 -> 909 values (Sec. III-A);
- `dct_cnn`: the 1-D CNN on those histograms (Sec. III-B, Fig. 2);
- `experiment`: train, vote per image, compare with bagged trees (Sec. IV, Tables I-VII);
- `evaluation`: every number of those tables with its 95% interval and test size, and the one setup call of
  the notebooks (data and cached networks, per dataset and seed);
- `identifier`: the trained network kept and applied to new files (`python -m forensiclib identify`);
- `header`: the traits of a JPEG's header (tables, coding, subsampling, metadata segments, restarts, size);
- `table_evidence`: which classes wrote each header trait in training and from which real sources, as smoothed
  likelihoods (`HeaderEvidence`; `TableEvidence`: the tables' writers, which identifier version 2 votes among);
- `combination`: the patch vote and the header combined into one answer with a confidence, calibrated on simulated
  held-out images; `header_vote`: all of that on a run's test images (notebook 05).

Import the public names from `forensiclib` itself (`fl.read_dct`, `fl.run_provenance`, ...); this
package imports nothing on its own, so feature workers start without TensorFlow.
"""
