"""The official model zoo, one module per model written the official way (``class Exp(MyExp)``).

``get_exp(None, "yolox-s")`` imports ``yolox.exp.default.yolox_s``; ``exps/default/*.py``
re-export these classes and the attention exps in ``exps/`` subclass them.
"""
