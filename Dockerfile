# Insurance Navigator: one image for `navigator serve` and `navigator worker`, installed from the
# same pins as every other install (constraints.txt).
#
# NOT BUILT HERE: the machine this was written on has no Docker engine, so this file has never
# been built or run. It uses only what the README's own install commands use; report what breaks.
#
#   docker build -t insurance-navigator .
#   docker run --rm -p 8000:8000 --env-file .env insurance-navigator                 # the API
#   docker run --rm --env-file .env -e METRICS_PORT=9100 -e METRICS_HOST=0.0.0.0 \
#       insurance-navigator navigator worker                                           # more workers
#
# In a container, set DATABASE_URL (with JWT_SECRET_KEY and DOCUMENT_ENCRYPTION_KEY): the embedded
# PostgreSQL works too, but its data then lives in the /data volume of one container.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    NAVIGATOR_DATA_DIR=/data

RUN useradd --create-home --uid 10001 navigator \
 && mkdir -p /data && chown navigator /data

WORKDIR /app
# Dependencies first (a layer that changes only with the pins), then the code.
COPY constraints.txt pyproject.toml README.md ./
COPY agents ./agents
COPY api ./api
COPY db ./db
COPY migrations ./migrations
COPY scripts ./scripts
RUN pip install --no-cache-dir -c constraints.txt ".[openai]"

USER navigator
VOLUME ["/data"]
EXPOSE 8000
# /livez: the process answers (200 even with the database down); orchestrators probe /readyz too.
# On METRICS_PORT when set (a worker serves its probes there only), else on the API's port.
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import os, urllib.request; \
port = os.environ.get('METRICS_PORT') or '8000'; \
urllib.request.urlopen(f'http://127.0.0.1:{port}/livez', timeout=4)" || exit 1
# SIGTERM drains: runs in flight finish their step and go back to the queue for another worker.
STOPSIGNAL SIGTERM
CMD ["navigator", "serve", "--host", "0.0.0.0", "--port", "8000"]
