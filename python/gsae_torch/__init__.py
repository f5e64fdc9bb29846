"""gsae_torch: the bridge between Hugging Face causal LMs and the gsae engine.

harvest writes (x, ∂L/∂x) shards that ``gsae train --data`` reads; evaluate splices a trained SAE
into the model and reports the downstream loss; steer measures how well its latents steer the model.
"""

__version__ = "0.1.0"

from .errors import GsaeError  # noqa: E402
from .harvest import HarvestResult, harvest  # noqa: E402

__all__ = ["GsaeError", "HarvestResult", "harvest", "__version__"]

from .evaluate import evaluate  # noqa: E402
from .sae import Sae, load as load_sae  # noqa: E402
from .steer import steer  # noqa: E402

__all__ += ["evaluate", "steer", "Sae", "load_sae"]
