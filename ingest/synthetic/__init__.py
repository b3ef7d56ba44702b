"""The synthetic industrial-chain generator (`chainlens generate`): data plus ground truth.

See docs/generator.md for what is generated and the truth files.
"""

from __future__ import annotations

from ingest.synthetic.generator import GenerationSummary, Progress, TradeNoise, generate
from ingest.synthetic.typologies import Typologies

__all__ = ["GenerationSummary", "Progress", "TradeNoise", "Typologies", "generate"]
