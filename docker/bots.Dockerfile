# syntax=docker/dockerfile:1
# clipbot chat adapters (`clipbot bots --telegram --discord ...`): no torch, no GPU.
# Build from the repository root:
#   docker build -f docker/bots.Dockerfile -t clipbot-bots .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CLIPBOT_METRICS_HOST=0.0.0.0 \
    CLIPBOT_METRICS_PORT=9100

WORKDIR /app
COPY pyproject.toml README.md ./
COPY clipbot ./clipbot
COPY bots ./bots
COPY storage ./storage
# bots.core snaps requests to the engine's output buckets (engine/buckets.py, pure Python);
# nothing under engine/ that imports torch is ever loaded in this image.
COPY engine ./engine
RUN pip install ".[telegram,discord]" \
 && python -c "import importlib.util as u, sys; \
sys.exit('torch must not be in the bots image' if u.find_spec('torch') else 0)" \
 && useradd --create-home --uid 10001 clipbot \
 && install -d -o clipbot -g clipbot -m 700 /home/clipbot/.cache/clipbot
USER clipbot

# 9100 metrics/health, 8080 web chat, 8443 Telegram webhook, 8090 WhatsApp webhook.
EXPOSE 9100 8080 8443 8090
CMD ["clipbot", "bots", "--telegram", "--discord"]
