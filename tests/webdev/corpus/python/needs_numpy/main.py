import numpy as np

print(np.arange(10).reshape(2, 5))
