"""Model backends: one chat interface over OpenAI-compatible servers and local models."""

from .base import LLM, ChatMessage, Generation, GenerationOptions, LLMError, Usage, approx_tokens
from .registry import describe_backends, load_model
from .spec import ModelSpec, ModelSpecError

__all__ = [
    "LLM", "ChatMessage", "Generation", "GenerationOptions", "LLMError", "Usage", "approx_tokens",
    "describe_backends", "load_model", "ModelSpec", "ModelSpecError",
]
