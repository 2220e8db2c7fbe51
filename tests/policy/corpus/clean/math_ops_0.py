import numpy as np


def attention(q, k, v):
    scores = q @ k.T / np.sqrt(k.shape[-1])
    weights = softmax(scores)
    return weights @ v

key = jax.random.PRNGKey(0)
key, subkey = jax.random.split(key)
