"""The GPU process: one diffusers pipeline, jobs from Redis, clips back to Redis."""

import os

# No usage reports to the Hugging Face Hub: a configured hub model is downloaded once into
# the cache, and nothing else leaves the machine (an operator may still set it to 0).
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
