# syntax=docker/dockerfile:1
# clipbot engine: one GPU worker (`clipbot engine`). Build from the repository root:
#   docker build -f docker/engine.Dockerfile -t clipbot-engine .
#
# The base image brings the CUDA build of torch 2.13.0 (the version pyproject pins for the
# `engine` extra), so installing `.[engine]` keeps it instead of pulling the CPU wheel:
# `torch==2.13.0` is satisfied by `2.13.0+cu130`. For an older driver (CUDA 13 needs >= 580),
# pick another build of the same torch version:
#   docker build --build-arg BASE=pytorch/pytorch:2.13.0-cuda12.8-cudnn9-runtime ...
ARG BASE=pytorch/pytorch:2.13.0-cuda13.0-cudnn9-runtime
FROM ${BASE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CLIPBOT_MODEL_CACHE=/models \
    HF_HOME=/models/huggingface \
    CLIPBOT_METRICS_HOST=0.0.0.0 \
    CLIPBOT_METRICS_PORT=9100

WORKDIR /app
COPY pyproject.toml README.md ./
COPY clipbot ./clipbot
COPY engine ./engine
COPY storage ./storage
COPY bots ./bots
RUN pip install ".[engine]" \
 && python -c "import sys, torch; v = torch.__version__; c = torch.version.cuda; \
print('torch', v, 'cuda', c); sys.exit(0 if v.startswith('2.13.') and c else 'need a CUDA torch 2.13')"

# Model weights (Hugging Face cache and the preview model) live on a volume, not in the image:
# the first start downloads Wan 2.1 1.3B (many GB, mostly its umT5 text encoder) once.
RUN useradd --create-home --uid 10001 clipbot \
 && mkdir -p /models \
 && chown clipbot:clipbot /models
VOLUME ["/models"]
USER clipbot

EXPOSE 9100
CMD ["clipbot", "engine"]
