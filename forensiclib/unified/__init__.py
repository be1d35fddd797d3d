"""Paper 2: learning unified deep features for multiple forensic tasks (Mayer, Bayar, Stamm 2018).

The networks and the experiments, one concept per module:

- `layers`: the Bayar-Stamm constraint and the constrained convolution, Caffe's rounded-up pooling (Sec. 3);
- `mislnet`: the constrained CNN, built from named blocks, and the share depths (Sec. 3, 4);
- `patches`: green-channel patches of the three tasks' images (Sec. 5);
- `common`: the experiments' settings, results and cache;
- `single_task`: one network per task (Sec. 5.1);
- `transfer`: freeze up to a share depth, train above it (Sec. 4.1, 5.2);
- `multitask`: legs tied up to a share depth (Sec. 4.2, 5.3);
- `trees`: extremely randomized trees on deep features (Sec. 5.3.1, 5.4, Tables 2-3);
- `learning_curves`: single-task accuracy against the training data within a CPU budget (for sizing a profile).

Import the public names from `forensiclib` itself (`fl.mislnet`, `fl.run_transfer`, ...).
"""
