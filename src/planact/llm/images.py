"""What an image costs a vision model, and a screenshot made to fit a budget of tokens.

The cost follows OpenAI's published accounting for image inputs, which other OpenAI-compatible
vision servers approximate: at `low` detail an image costs 85 tokens (it is seen at most 512 px wide);
at `high` detail it is scaled to fit 2048 x 2048, then its shorter side to 768 px, and costs 85 tokens
plus 170 for each 512 px tile."""

from __future__ import annotations

import io
import math

LOW_TOKENS = 85
TILE_TOKENS = 170


def image_tokens(width: int, height: int, detail: str = "high") -> int:
    """Tokens an image of this size costs at this detail ("low" or "high"; "auto" counts as high)."""
    if detail == "low":
        return LOW_TOKENS
    w, h = float(width), float(height)
    if max(w, h) > 2048:
        s = 2048 / max(w, h)
        w, h = w * s, h * s
    if min(w, h) > 768:
        s = 768 / min(w, h)
        w, h = w * s, h * s
    return LOW_TOKENS + TILE_TOKENS * math.ceil(w / 512) * math.ceil(h / 512)


def fit_image(data: bytes, budget: int) -> tuple[bytes, int, str]:
    """The image, its cost in tokens and the detail to ask for, within `budget` tokens (0: as it is).
    Larger images are scaled down (JPEG, quality 60) until they fit at high detail; a budget under one
    tile's cost (255) gets the image at low detail, at most 512 px wide."""
    from PIL import Image

    img = Image.open(io.BytesIO(data))
    cost = image_tokens(*img.size)
    if budget <= 0 or cost <= budget:
        return data, cost, "auto"
    if budget < LOW_TOKENS + TILE_TOKENS:
        scale = min(1.0, 512 / max(img.size))
        detail = "low"
    else:
        scale = 1.0
        while scale > 0.05 and image_tokens(int(img.size[0] * scale), int(img.size[1] * scale)) > budget:
            scale *= 0.9
        detail = "high"
    small = img.convert("RGB").resize((max(1, int(img.size[0] * scale)), max(1, int(img.size[1] * scale))))
    out = io.BytesIO()
    small.save(out, format="JPEG", quality=60)
    return out.getvalue(), image_tokens(*small.size, detail=detail), detail
