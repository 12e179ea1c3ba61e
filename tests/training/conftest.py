"""One torch thread in these tests: on a shared, oversubscribed CI machine OpenMP's spinning
threads make small CPU ops tens of times slower (measured: 3 s vs 0.1 s per training step)."""

import torch

torch.set_num_threads(1)
